"""OpenAPI generation tweaks."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema


class AutoSchema(SpectacularAutoSchema):
    """Names the nested `InputSerializer`/`OutputSerializer` of each view after the view, so
    `MeApi.OutputSerializer` becomes the component `MeOutput` instead of a colliding `Output`."""

    def get_serializer_name(self, serializer, direction) -> str:
        cls = serializer.__class__
        outer, _, inner = cls.__qualname__.rpartition(".")
        if outer and inner in ("InputSerializer", "OutputSerializer"):
            view_name = outer.split(".")[-1].removesuffix("Api").removesuffix("View")
            return view_name + inner.removesuffix("Serializer")
        return super().get_serializer_name(serializer, direction)
