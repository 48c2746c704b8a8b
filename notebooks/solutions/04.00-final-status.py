final_status = {
    "GitHub push, the receiver answers 500": "failed",
    # the subscription was created through the Admin API, so 8 consecutive failures delete it
    "Shopify order, the receiver is down all day": "disabled",
    "Stripe live payment, the receiver fails 3 times then answers 200": "delivered",
    "Stripe test-mode payment, the receiver always answers 500": "exhausted",
    "Standard Webhooks event, the receiver answers 410 Gone": "disabled",
}
