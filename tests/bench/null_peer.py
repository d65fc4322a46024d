"""The replication benchmark's floor: a push target on the gateway's own stack (uvicorn, Starlette, orjson) that
does no work. It answers a push into an empty database as CouchDB would (every revision missing, every replicated
document accepted) and keeps nothing but the replicator's checkpoints, in memory.

No server can answer a push faster than this one on the same stack, so `push time to this peer / push time to
pouchdb-server` is the lowest ratio any gateway built on it can reach with this client on this machine.

Run: `python tests/bench/null_peer.py PORT` (bench_replication.py starts it).
"""

from __future__ import annotations

import sys
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

checkpoints: dict[str, dict[str, Any]] = {}


def answer(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status, media_type="application/json")


async def info(request: Request) -> Response:
    return answer({"db_name": "sync", "doc_count": 0, "update_seq": "0", "instance_start_time": "0"})


async def local_doc(request: Request) -> Response:
    doc_id = "_local/" + request.path_params["id"]
    if request.method == "GET":
        doc = checkpoints.get(doc_id)
        return answer(doc) if doc else answer({"error": "not_found", "reason": "missing"}, 404)
    body = orjson.loads(await request.body())
    rev = f"0-{int(checkpoints.get(doc_id, {}).get('_rev', '0-0')[2:]) + 1}"
    checkpoints[doc_id] = {**body, "_id": doc_id, "_rev": rev}
    return answer({"ok": True, "id": doc_id, "rev": rev}, 201)


async def revs_diff(request: Request) -> Response:
    asked = orjson.loads(await request.body())
    return answer({doc_id: {"missing": revs} for doc_id, revs in asked.items()})


async def bulk_docs(request: Request) -> Response:
    orjson.loads(await request.body())
    return answer([], 201)  # new_edits=false: CouchDB answers an empty list


app = Starlette(
    routes=[
        Route("/sync/", info),
        Route("/sync/_local/{id:path}", local_doc, methods=["GET", "PUT"]),
        Route("/sync/_revs_diff", revs_diff, methods=["POST"]),
        Route("/sync/_bulk_docs", bulk_docs, methods=["POST"]),
    ]
)

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
