"""Bulk import: upload a file as a job, follow its progress, read its per-row error report."""
from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from rapport_shared.web import ApiError

from rapport_ingest.entrypoints.api.deps import scoped
from rapport_ingest.service_layer import import_jobs
from rapport_ingest.service_layer.tenancy import Caller

router = APIRouter(prefix="/v1", tags=["imports"])
KINDS, FORMATS = ("invoices", "customers", "payments"), ("csv", "ndjson")


@router.post("/imports", status_code=202, openapi_extra={"requestBody": {"content": {
    "multipart/form-data": {"schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}},
    "text/csv": {"schema": {"type": "string"}}, "application/x-ndjson": {"schema": {"type": "string"}}}}})
async def create_import(request: Request, who: Caller = Depends(scoped("write"))):
    """Query or form fields: ``kind``, ``format``, ``preset`` (quickbooks|xero|netsuite|custom|native), ``mapping``."""
    limit = request.app.state.settings.max_upload_bytes
    if int(request.headers.get("content-length") or 0) > limit + 64 * 1024:
        raise ApiError(413, f"upload larger than {limit} bytes", field="file")
    options, content, filename = await _read_upload(request, limit)
    params = _options(options, filename)
    async with request.app.state.sessions() as session, session.begin():
        job_id = await import_jobs.create(session, who.tenant_id, content=content, **params)
    return JSONResponse({"job_id": str(job_id), "status": "queued"}, status_code=202)


async def _read_upload(request: Request, limit: int) -> tuple[dict[str, Any], bytes, str | None]:
    options: dict[str, Any] = dict(request.query_params)
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form(max_part_size=limit + 1)
        upload = form.get("file")
        options.update({k: v for k, v in form.items() if isinstance(v, str)})
        if upload is None or isinstance(upload, str):
            raise ApiError(422, "a multipart upload needs a 'file' part", field="file")
        content, filename = await upload.read(limit + 1), upload.filename
    else:
        content, filename = await _body(request, limit), None
    if len(content) > limit:
        raise ApiError(413, f"upload larger than {limit} bytes", field="file")
    if not content.strip():
        raise ApiError(422, "the upload is empty", field="file")
    return options, content, filename


async def _body(request: Request, limit: int) -> bytes:
    parts, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"upload larger than {limit} bytes", field="file")
        parts.append(chunk)
    return b"".join(parts)


def _options(options: dict[str, Any], filename: str | None) -> dict[str, Any]:
    kind = options.get("kind", "invoices")
    if kind not in KINDS:
        raise ApiError(422, f"kind must be one of {', '.join(KINDS)}", field="kind")
    fmt = options.get("format") or ("ndjson" if (filename or "").endswith((".ndjson", ".jsonl")) else "csv")
    if fmt not in FORMATS:
        raise ApiError(422, f"format must be one of {', '.join(FORMATS)}", field="format")
    mapping = options.get("mapping")
    try:
        mapping = json.loads(mapping) if isinstance(mapping, str) and mapping else None
    except ValueError:
        raise ApiError(422, "mapping must be a JSON object", field="mapping") from None
    preset = options.get("preset") or "native"
    try:
        import_jobs.check_preset(preset, kind, mapping)
    except ValueError as exc:
        raise ApiError(422, str(exc), field="preset") from None
    return {"kind": kind, "fmt": fmt, "preset": preset, "mapping": mapping}


@router.get("/imports/{job_id}")
async def import_status(job_id: UUID, request: Request, who: Caller = Depends(scoped("read"))):
    async with request.app.state.sessions() as session:
        job = await import_jobs.status(session, who.tenant_id, job_id)
    if job is None:
        raise ApiError(404, f"no import job {job_id}", field="job_id")
    return job


@router.get("/imports/{job_id}/errors")
async def import_errors(job_id: UUID, request: Request, who: Caller = Depends(scoped("read")),
                        limit: int = Query(1000, ge=1, le=10000), offset: int = Query(0, ge=0)):
    async with request.app.state.sessions() as session:
        found = await import_jobs.errors(session, who.tenant_id, job_id, limit, offset)
    if found is None:
        raise ApiError(404, f"no import job {job_id}", field="job_id")
    return found
