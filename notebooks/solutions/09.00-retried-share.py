retried_share = (deliveries["attempts"] > 1).groupby(deliveries["event_type"]).mean()
