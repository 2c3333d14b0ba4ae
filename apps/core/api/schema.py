"""OpenAPI generation tweaks: component names, auth schemes with scopes, error bodies."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from apps.core.api.scopes import all_scopes, view_required_scopes


class ErrorSerializer(serializers.Serializer):
    """The one error body of the API."""

    class DetailSerializer(serializers.Serializer):
        code = serializers.CharField(help_text="Machine-readable, e.g. insufficient_scope.")
        message = serializers.CharField()
        fields = serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            help_text="Per input field (or `scope`), what is wrong with it.",
        )
        retry_after = serializers.IntegerField(
            required=False, help_text="On 429 only: seconds to wait (as in Retry-After)."
        )

    error = DetailSerializer()


ERROR_RESPONSES = {
    "400": "Invalid input, or a business rule refused the operation.",
    "401": "No credentials, or an invalid, expired or revoked token.",
    "403": "Not allowed: role or object permission, or the token lacks the scope "
    "(code `insufficient_scope`).",
    "404": "No such object (or not visible to you).",
    "409": "Conflicts with the current state.",
    "415": "The body's media type is not one this operation accepts.",
    "429": "Too many requests: wait the seconds in Retry-After.",
    "502": "An upstream provider failed.",
}


def _required_scopes(auto_schema) -> list[str]:
    scopes = view_required_scopes(type(auto_schema.view), auto_schema.method)
    return sorted(scopes or ())


class OAuth2Scheme(OpenApiAuthenticationExtension):
    """OAuth 2 (client credentials; authorization code with PKCE) with the operation's scopes."""

    target_class = "apps.core.api.authentication.OAuth2Authentication"
    name = "oauth2"
    priority = 1  # over drf-spectacular's own django-oauth-toolkit extension

    def get_security_requirement(self, auto_schema):
        return {self.name: _required_scopes(auto_schema)}

    def get_security_definition(self, auto_schema):
        scopes = all_scopes()
        return {
            "type": "oauth2",
            "description": "Access tokens from /oauth/token/; each operation names the scopes "
            "it needs (also in `x-required-scopes`).",
            "flows": {
                "clientCredentials": {"tokenUrl": "/oauth/token/", "scopes": scopes},
                "authorizationCode": {
                    "authorizationUrl": "/oauth/authorize/",
                    "tokenUrl": "/oauth/token/",
                    "refreshUrl": "/oauth/token/",
                    "scopes": scopes,
                },
            },
        }


class PersonalAccessTokenScheme(OpenApiAuthenticationExtension):
    """Personal access tokens (`lyc_pat_...`), sent as bearer tokens."""

    target_class = "apps.accounts.authentication.PersonalAccessTokenAuthentication"
    name = "personalAccessToken"

    def get_security_requirement(self, auto_schema):
        return {self.name: []}

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal access token (made on your account's security page or "
            "with POST /api/v1/accounts/me/tokens/); it needs the scopes the operation names "
            "in `x-required-scopes`.",
        }


class AutoSchema(SpectacularAutoSchema):
    """Names the nested `InputSerializer`/`OutputSerializer` of each view after the view, so
    `MeApi.OutputSerializer` becomes the component `MeOutput` instead of a colliding `Output`;
    lists the scopes and the error responses of every operation."""

    def get_serializer_name(self, serializer, direction) -> str:
        cls = serializer.__class__
        outer, _, inner = cls.__qualname__.rpartition(".")
        if outer and inner in ("InputSerializer", "OutputSerializer"):
            view_name = outer.split(".")[-1].removesuffix("Api").removesuffix("View")
            return view_name + inner.removesuffix("Serializer")
        # Other serializers nested in a view (`GradebookApi.OutputSerializer.RowSerializer`)
        # are named after the view too (`GradebookRow`), so two views' `Row`s never collide.
        view = next((part for part in outer.split(".") if part.endswith(("Api", "View"))), "")
        if view:
            return view.removesuffix("Api").removesuffix("View") + inner.removesuffix("Serializer")
        if cls is ErrorSerializer.DetailSerializer:
            return "ErrorDetail"
        return super().get_serializer_name(serializer, direction)

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is not None:
            operation["x-required-scopes"] = _required_scopes(self)
        return operation

    def _is_conditional(self) -> bool:
        return self.method == "GET" and getattr(self.view, "conditional_get", False)

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self._is_conditional():
            parameters.append(
                OpenApiParameter(
                    "If-None-Match",
                    str,
                    OpenApiParameter.HEADER,
                    description="An ETag from an earlier answer: 304 when unchanged.",
                )
            )
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        codes = ["400", "401", "403", "404", "429"]
        if self.method not in ("GET", "HEAD", "OPTIONS"):
            codes += ["409", "415"]
        for code in codes:
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code)
                response["description"] = ERROR_RESPONSES[code]
                if code == "429":
                    response["headers"] = {
                        "Retry-After": {
                            "schema": {"type": "integer"},
                            "description": "Seconds to wait before the next request.",
                        }
                    }
                responses[code] = response
        if self._is_conditional() and "200" in responses:
            responses["200"].setdefault("headers", {})["ETag"] = {
                "schema": {"type": "string"},
                "description": "A weak validator of this representation.",
            }
            responses["304"] = {
                "description": "Not modified since the ETag given in If-None-Match.",
                "headers": {"ETag": {"schema": {"type": "string"}}},
            }
        return responses
