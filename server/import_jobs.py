"""Survey import jobs that survive a restart: the rows and the report are in the store before the 202.

A job is two documents of the server-only registry partition: `registry:import_rows:{job}` holds the parsed
rows (written once, deleted when the job ends) and `registry:import:{job}` its report, saved after each chunk
of rows is planned (`Importer.run`). A gateway that starts takes up every job whose report still says
`running`: it was killed, or stopped, in the middle of it. The report then counts on where it was kept, and
`resumed` says how often that happened.

On CouchDB several gateways share the jobs, and one that starts may find a job another gateway is running. It
takes up only a job whose report was not saved for `STALE_AFTER` (a report is saved at every chunk of 100 rows,
a second or two), and looks again every `WATCH_EVERY` seconds for as long as it runs: a job whose gateway died is
finished by another. The gateways' clocks are taken to agree within a minute (NTP). Taking a job up is a write of
its report with the revision read: when two gateways take a job up at once, one of them gets it. A gateway that
finds its report changed under it (another gateway took the job up) stops at that chunk and leaves the job to the
other. Jobs run one at a time per gateway: two would race on the grids' shop lists.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from server.errors import CouchError
from server.importer import Importer, Report, Row, Rows
from server.registry import Registry
from server.store.protocol import AllDocsQuery, Doc, Store
from server.store.reads import docs_with_prefix
from server.store.upsert import read

log = logging.getLogger(__name__)
KEEP_JOBS: Final = 50  # finished jobs kept, newest first
JOB_PREFIX: Final = "registry:import:"
ROWS_PREFIX: Final = "registry:import_rows:"
STALE_AFTER: Final = timedelta(minutes=2)  # unsaved this long on CouchDB: its gateway is gone
WATCH_EVERY: Final = 30.0  # seconds between two looks for such jobs (CouchDB)
# Why a job failed, as its report says it (Chinese first, English after the full stop, as the importer's reasons).
# Importing the same file again registers no shop twice: a code updates its shop, a row without one finds its shop.
LOST: Final = (
    "导入未完成：服务器重启时这份表格的内容丢失了，请重新导入这份表格。"
    "the rows of the import were lost; send the file again"
)
STOPPED: Final = (
    "导入因服务器出错而停止：请稍后重新导入这份表格（已导入的店铺不会重复登记）。"
    "the import stopped on an error in the server; send the file again later"
)


class Taken(Exception):
    """Another gateway took the job up: this one stops running it."""


class ImportJobs:
    def __init__(
        self,
        store: Store,
        registry: Registry,
        on_end: Callable[[], None],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store, self.registry, self.on_end, self.clock = store, registry, on_end, clock
        self._running: dict[str, Report] = {}  # the jobs this gateway runs (or queues) now
        self._revs: dict[str, str] = {}  # job -> the revision of its report this gateway last wrote
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._watch: asyncio.Task[None] | None = None

    async def start(self, report: Report, rows: list[Row], subdistrict: str | None) -> None:
        """Keep the job's rows and report, then run it in the background; answers once both are on disk. The
        file's warnings (`Rows.warnings`: columns ignored) are in the report from the start."""
        report.total = len(rows)
        if isinstance(rows, Rows):
            report.warnings = [*rows.warnings]
        rows_doc = {
            "_id": ROWS_PREFIX + report.job,
            "type": "import_rows",
            "schema": 1,
            "rows": [[row.line, row.values] for row in rows],
        }
        results = await self.store.bulk_docs([rows_doc, self._job_doc(report, subdistrict)])
        failed = [r for r in results if not r.get("ok")]
        if failed:
            raise CouchError(
                503,
                "unavailable",
                "导入没有开始：服务器未能保存这份表格，请稍后再导入。"
                f"the import could not be kept: {failed[0].get('reason')}",
            )
        self._revs[report.job] = str(results[1]["rev"])
        report.queued = self._lock.locked()
        self._spawn(report, rows, subdistrict)

    async def report(self, job: str) -> dict[str, Any] | None:
        """The job's report: live while this gateway runs it, else as kept."""
        if job in self._running:
            return self._running[job].to_json()
        doc = await read(self.store, JOB_PREFIX + job)
        return dict(doc["report"]) if doc is not None else None

    async def outcomes(self, jobs: Iterable[str]) -> dict[str, dict[str, Any]]:
        """What these jobs did, by job, as the audit log says it: the `file`, the `status`, the rows (`total`) and of
        them those `created`, `updated` (a shop moved to another grid included, as the import's report counts it) and
        `refused`. A job no longer kept (the newest `KEEP_JOBS` finished ones are) is left out."""
        wanted = list(dict.fromkeys(jobs))
        if not wanted:
            return {}
        rows = await self.store.all_docs(AllDocsQuery(keys=[JOB_PREFIX + j for j in wanted], include_docs=True))
        reports = {str(row["id"])[len(JOB_PREFIX) :]: row["doc"]["report"] for row in rows["rows"] if row.get("doc")}
        reports |= {job: self._running[job].to_json() for job in wanted if job in self._running}
        return {
            job: {
                "file": report.get("file"),
                "status": report.get("status"),
                "total": report.get("total", 0),
                "created": report.get("created", 0),
                "updated": report.get("updated", 0) + report.get("moved", 0),
                "refused": report.get("refused", 0),
            }
            for job, report in reports.items()
        }

    async def resume(self) -> list[str]:
        """Take up the jobs a stopped gateway left running; answers their ids. On the embedded store that is every
        running job (one gateway serves a folder); on CouchDB only those whose report went unsaved too long."""
        taken = []
        for doc in await docs_with_prefix(self.store, JOB_PREFIX):
            if doc.get("report", {}).get("status") != "running" or str(doc["_id"])[len(JOB_PREFIX) :] in self._revs:
                continue  # done, or this gateway's own
            if self.store.kind != "sqlite" and not self._stale(doc):
                continue  # another gateway runs it
            try:
                report = Report(**doc["report"])
            except TypeError:  # not a report this version can read: the gateway starts all the same
                log.error("import job %s: its report cannot be read; it is left as it is", doc["_id"])
                continue
            rows_doc = await read(self.store, ROWS_PREFIX + report.job)
            if report.dry_run:  # what a dry run would have created lived only in its memory: it starts over
                report = Report(
                    report.job,
                    report.dry_run,
                    report.create,
                    report.create_similar,
                    resumed=report.resumed,
                    within=report.within,
                )
            report.resumed += 1
            if rows_doc is None:
                report.status, report.reason = "failed", LOST
            self._revs[report.job] = str(doc["_rev"])
            try:
                await self._save(report, doc.get("subdistrict"))
            except Taken:
                continue  # another gateway took it up first
            if rows_doc is not None:
                rows = [Row(int(line), dict(values)) for line, values in rows_doc["rows"]]
                self._spawn(report, rows, doc.get("subdistrict"))
                taken.append(report.job)
                log.warning("import job %s taken up again at row %d of %d", report.job, report.done, report.total)
        return taken

    def watch(self) -> None:
        """On CouchDB, from now on: take up the jobs whose gateway dies (see the module's text)."""
        if self.store.kind != "sqlite" and self._watch is None:
            self._watch = asyncio.create_task(self._watching(), name="import-watch")

    async def _watching(self) -> None:
        while True:
            await asyncio.sleep(WATCH_EVERY)
            try:
                await self.resume()
            except Exception:  # the store is away for a moment: the next look tries again
                log.exception("import jobs: looking for jobs left by a stopped gateway failed")

    def _stale(self, doc: Doc) -> bool:
        try:
            saved = datetime.fromisoformat(str(doc.get("updated_at")))
        except ValueError:
            return True
        return saved.tzinfo is None or self.clock() - saved > STALE_AFTER

    async def drain(self) -> None:
        """Wait for the jobs running here to end (tools and tests)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def stop(self) -> None:
        """Stop running jobs; their reports still say `running`, and the next start takes them up."""
        tasks = [*self._tasks, *([self._watch] if self._watch else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._watch = None

    def _spawn(self, report: Report, rows: list[Row], subdistrict: str | None) -> None:
        self._running[report.job] = report
        task = asyncio.create_task(self._run(report, rows, subdistrict))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, report: Report, rows: list[Row], subdistrict: str | None) -> None:
        try:
            async with self._lock:
                report.queued = False
                importer = Importer(self.registry, report, subdistrict)
                await importer.run(rows, lambda: self._save(report, subdistrict))
        except Taken:
            log.warning("import job %s was taken up by another gateway", report.job)
            return
        except CouchError as e:
            report.status, report.reason = "failed", e.reason
        except Exception:  # the job's report says it failed; the gateway goes on
            report.status, report.reason = "failed", STOPPED
            log.exception("import job %s failed", report.job)
        finally:
            self._running.pop(report.job, None)
            self.on_end()
        await self._end(report, subdistrict)

    async def _end(self, report: Report, subdistrict: str | None) -> None:
        """Keep the final report, forget the rows, and keep the newest `KEEP_JOBS` finished jobs."""
        try:
            await self._save(report, subdistrict)
        except Taken:
            return
        rows = await read(self.store, ROWS_PREFIX + report.job)
        deletions = [{"_id": rows["_id"], "_rev": rows["_rev"], "_deleted": True}] if rows is not None else []
        finished = [d for d in await docs_with_prefix(self.store, JOB_PREFIX) if d["report"].get("status") != "running"]
        deletions += [{"_id": d["_id"], "_rev": d["_rev"], "_deleted": True} for d in finished[:-KEEP_JOBS]]
        if deletions:
            await self.store.bulk_docs(deletions)
        self._revs.pop(report.job, None)

    async def _save(self, report: Report, subdistrict: str | None) -> None:
        doc = {**self._job_doc(report, subdistrict), "_rev": self._revs[report.job]}
        [result] = await self.store.bulk_docs([doc])
        if result.get("error") == "conflict":
            raise Taken(report.job)
        if not result.get("ok"):
            raise CouchError(
                503,
                "unavailable",
                "导入已停止：服务器未能保存导入进度，请稍后再导入这份表格（已导入的店铺不会重复登记）。"
                f"the import's report could not be kept: {result.get('reason')}",
            )
        self._revs[report.job] = str(result["rev"])

    @staticmethod
    def _job_doc(report: Report, subdistrict: str | None) -> Doc:
        return {
            "_id": JOB_PREFIX + report.job,
            "type": "import",
            "schema": 1,
            "subdistrict": subdistrict,
            "updated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "report": report.to_json(),
        }
