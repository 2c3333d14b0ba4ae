THEMES = ("light", "dark")


def site(request) -> dict:
    """Values every page layout needs: the product name and the colour theme (a signed-in
    user's saved preference, else the visitor's cookie)."""
    preferences = getattr(request, "preferences", None)
    theme = preferences.theme if preferences is not None else request.COOKIES.get("theme")
    return {"product_name": "Lyceum", "theme": theme if theme in THEMES else "light"}
