"""The peer Docket's slash command is measured against: a Bolt for Python app under uvicorn.

It does the same work as Docket's answer to a signed slash command, and no more: Bolt checks the
v0 signature and its timestamp, the request is recorded in SQLite (WAL, synchronous=NORMAL, as
Docket's store: one durable write per command, its signature the key, so a replay is refused),
and the command is acknowledged with an empty 200.

`docket bench --target peers` starts it with:
  BOLT_DB               the SQLite file to write
  SLACK_SIGNING_SECRET  the signing secret the bench signs with
  SLACK_API_URL         a stand-in for Slack's Web API (Bolt calls auth.test once)
"""

import os
import sqlite3
import time

from slack_bolt import App
from slack_bolt.adapter.asgi import SlackRequestHandler
from slack_sdk import WebClient

TOKEN = "xoxb-bench"

db = sqlite3.connect(os.environ["BOLT_DB"], isolation_level=None, check_same_thread=False)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=NORMAL")
db.execute(
    "CREATE TABLE IF NOT EXISTS commands ("
    " signature TEXT PRIMARY KEY, user_id TEXT NOT NULL, text TEXT NOT NULL, at REAL NOT NULL)"
)

app = App(
    token=TOKEN,
    signing_secret=os.environ["SLACK_SIGNING_SECRET"],
    token_verification_enabled=False,
    client=WebClient(token=TOKEN, base_url=os.environ["SLACK_API_URL"].rstrip("/") + "/"),
    # Everything in the request, before the answer: the write is done when Slack gets its 200.
    process_before_response=True,
)


@app.command("/docket")
def docket(ack, body, request):
    signature = request.headers.get("x-slack-signature", [""])[0]
    try:
        db.execute(
            "INSERT INTO commands (signature, user_id, text, at) VALUES (?, ?, ?, ?)",
            (signature, body["user_id"], body.get("text", ""), time.time()),
        )
    except sqlite3.IntegrityError:
        ack(text="This request was already received.")
        return
    ack()


api = SlackRequestHandler(app)
