"""The web side: who may see an account, the add-a-mailbox form, imported messages for pages and the API,
the pages themselves (in the reader's language) and the WebSocket API's routes."""
