THEMES = ("light", "dark")


def site(request) -> dict:
    """Values every page layout needs: the site name and the chosen colour theme."""
    theme = request.COOKIES.get("theme")
    return {"product_name": "Lyceum", "theme": theme if theme in THEMES else "light"}
