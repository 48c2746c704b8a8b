"""Receiving: capture every request, store it, check it, answer it, and show it.

contract.py    what every receiver a notebook holds can do, local or a class bin
receiver.py    Receiver: start, stop, respond, on, wait_for, events; the notebook's side of the receiver
remote.py      a bin on a class server, attached, with the same calls
bincalls.py    how it talks to its bin: pages while the cursor moves, events in batches, errors that teach
bounded.py     one HTTP answer read within bounds (a deadline for the call, a cap on bytes): the remote client's reader
answers.py     what a bin's JSON API answers, checked field by field before the remote client uses it
watch.py       tells a bin's listeners of new arrivals: one thread asks, after pauses that grow
joining.py     wl.join_class and wl.workshop_receiver: a receiver of your own, also at the folder's class bin
relay.py       the learner's side of a relay: a bin's requests, forwarded to this machine, and their answers back
relayhub.py    a bin's side of a relay: each webhook handed to the learner's relay, its answer to the sender
relayapi.py    the relay's calls to its bin: ask for requests, answer one, say goodbye
arrivals.py    what wait_for and arrivals return: the events, read from the store or the bin only when used
app.py         the Flask app: capture each request under /hooks/, store it once with its answer
rules.py       how each endpoint answers (status, delay, failures first, body, headers)
verifiers.py   the secret each endpoint checks signatures with; the verdict at capture, the likely cause when read
urls.py        the URL a request arrived at, as this receiver saw it (what a scheme that signs URLs needs)
handlers.py    functions run for each verified event (rx.on), with deduplication
store.py       SQLite, with the schema made from Event's fields; pages, batches and the pandas table
spill.py       an in-memory store's ceiling: past it, a temporary file, and the memory handed back
dbfile.py      what a db= path must be, and what SQLite's refusal to open one means
queries.py     what the store can be asked: its filters and cursors, checked, as the SQL they make
server.py      a WSGI app in a daemon thread: start, stop, a URL; a taken port is a clear error
transport.py   waitress, adapted: one event loop on the system's selector, and no connection kept for nothing
connection.py  one connection: headers as sent, bodies capped, refusals recorded, late answers held, deadlines, TLS
deferred.py    an answer another thread gives later, held by the event loop meanwhile (a relayed webhook's)
admission.py   who each request counts against (a class server's bins), its refusal, workers shared in turn
guard.py       the page and the API answer only the local user, and a proxy on this machine is believed
links.py       where a browser finds a receiver's page: a laptop, a JupyterHub, Colab, or a template
api.py         the JSON API under /api: events, inspect, replay and edit-and-resend, endpoint answers, exports
resend.py      a captured request edited, re-signed or not, and two requests compared: what changed, and its cause
export.py      JSON, JSON Lines, CSV and HAR files written as they are read, and one event as curl
importing.py   a saved capture (HAR, JSON Lines, a JSON array) added as new events, all or nothing
jsonstream.py  a JSON file read one value at a time within bounds, refusals naming the line and entry
inspector/     the live web page at the receiver's / (static HTML, CSS and JavaScript)

Providers are below this wing: it hands each scheme what it needs (the body, the
headers, the URL the request arrived at), and no scheme reaches up into it.
"""
