"""Classroom mode: one instructor's server with a private bin per learner, and a dashboard for the instructor.

folder.py     the class folder: roster, tokens and secrets in private files, the handout
server.py     one server, a bin per learner at /b/<token>/, challenge reports, `webhooklab classroom`
dashboard.py  the instructor's dashboard at /teacher/<admin>/: everyone's counts and scores, class exports
limits.py     each bin's share of the server: requests in flight, bytes kept, endpoints, the disk's floor
shelf.py      the bins' stores, a bounded number open at once (a class of 100 under 256 open files)
static/       the dashboard's live page (static HTML, CSS and JavaScript)
"""

from .folder import ClassFolder, Learner, lan_address, numbered
from .server import ClassServer, run

__all__ = ["ClassFolder", "ClassServer", "Learner", "lan_address", "numbered", "run"]
