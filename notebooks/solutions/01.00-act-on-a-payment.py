paid_orders = []


@rx.on("payment_intent.succeeded")
def remember_paid_order(event):
    paid_orders.append(event.json["data"]["object"]["metadata"]["order"])
