paid_orders = []


@rx.on("payment_intent.succeeded")
def remember_paid_order(event):
    order = event.json["data"]["object"]["metadata"].get("order_id")  # a payment need not be for an order
    if order is not None:
        paid_orders.append(order)
