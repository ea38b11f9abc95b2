"""Handlers that leak secrets and die in awkward ways (the safety tests)."""

import json
import os
import signal
import time


def leak(context):
    secret = context.get_secret("PASSWORD")
    context.log_result("copied", secret)
    context.log_result("nested", {"inner": [f"pw={secret}"]})
    context.set_label("owner", secret)
    context.log_artifact("notes", body=b"public", labels={"who": secret})
    print("plain", secret)
    print("repr", repr(secret))
    print("json", json.dumps({"pw": secret}))
    print("json-ascii", json.dumps({"pw": secret}, ensure_ascii=True))
    print("bytes", secret.encode("utf-8"))
    context.logger.info("logger %s", secret)
    return secret


def partial_then_kill(context):
    context.log_result("first", 1)
    context.set_label("stage", "one")
    context.log_artifact("early", body=b"kept")
    context.commit()
    context.log_result("second", 2)  # written by the periodic writer within a second
    time.sleep(1.6)
    os.kill(os.getpid(), signal.SIGKILL)


def outlive_parent(context, marker: str = ""):
    time.sleep(2.0)  # the parent is killed meanwhile
    for i in range(200):
        print("still here", i)  # into a pipe nobody reads any more
    context.log_result("finished", True)
    with open(marker, "w") as f:
        f.write("done")


def hang(context):
    time.sleep(600)
