"""mail_import logic: mime (decoder) <- engine (import) <- web (pages, API, WebSocket); settings, queries and
the WebSocket connection list are shared by the three."""
