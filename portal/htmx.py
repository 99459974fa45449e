def htmx_partial(request) -> bool:
    """True for htmx requests that want a fragment (not boosted full-page navigations)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted
