def accept_payment(event, orders):
    """True only for a succeeded payment of a known order, for its amount and in its currency."""
    if event["type"] != "payment_intent.succeeded":
        return False
    payment = event["data"]["object"]
    order = orders.get(payment.get("metadata", {}).get("order_id"))
    if order is None:
        return False
    return payment["amount"] == order["amount"] and payment["currency"] == order["currency"]
