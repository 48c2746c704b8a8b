@rx.on("charge.refunded", endpoint="stripe", dedupe=True)
def refund(event):
    order = event.json["data"]["object"]["metadata"]["order_id"]
    orders.at[order, "status"] = "refunded"
