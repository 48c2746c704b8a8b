def adjust_stock(inventory, line_items, direction):
    """Change the stock of every line item's SKU: direction -1 for an order, +1 for a cancellation."""
    for item in line_items:
        inventory.loc[item["sku"], "stock"] += direction * item["quantity"]
