"""A Chalice app behind the local gateway, routed by resource path like API Gateway does."""
from chalice import Chalice

app = Chalice(app_name="foundation-test")


@app.route("/items/{item_id}", methods=["GET", "PUT"])
def item(item_id):
    """Echo the item id and the method."""
    return {"id": item_id, "method": app.current_request.method,
            "json": app.current_request.json_body if app.current_request.method == "PUT" else None}
