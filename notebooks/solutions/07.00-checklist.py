checklist = {
    "endpoint URL": "https://",
    "verify the signature over": "the raw body",
    "accept a signed timestamp up to": "5 minutes old",
    "deduplicate on": "an id the signature covers",
    "answer 2xx": "after storing the event, before the slow work",
    "mark an event done": "after its work succeeded",
    "monitor": "failed deliveries, retries and answer times",
    "after an outage": "list missed events from the provider and process them once",
    "signing secrets": "rotate them, with an overlap",
    "subscribe to": "only the events you handle",
    "log": "event ids and outcomes, never secrets or signatures",
}
