"""DRF's browsable API under the site's Content Security Policy (ADR 0016)."""

from rest_framework import renderers

# DRF's pages and form templates put layout in style attributes (`style="float: right"`), which
# a nonce cannot cover. Only these pages admit style attributes, nothing else: scripts, <style>
# elements (templates/rest_framework/api.html gives its one the nonce) and every other page keep
# the site's policy.
BROWSABLE_API_CSP_UPDATE = {"style-src-attr": ["'unsafe-inline'"]}


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """DRF's browsable API, with its page's policy admitting style attributes only."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        content = super().render(data, accepted_media_type, renderer_context)
        response = (renderer_context or {}).get("response")
        if response is not None:
            response._csp_update = BROWSABLE_API_CSP_UPDATE
        return content
