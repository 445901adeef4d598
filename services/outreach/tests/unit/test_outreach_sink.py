"""The local sink writes e-mails a person (or a mail client) can open."""
import json
import uuid
from email import policy
from email.parser import BytesParser

from rapport_outreach.adapters.providers.sink import SinkProvider
from rapport_outreach.domain.model import Outgoing


async def test_sink_writes_a_parseable_multipart_eml_and_a_json_summary(tmp_path) -> None:
    sink = SinkProvider(tmp_path / "sink", "ar@acme.example", "Acme AR")
    message = Outgoing(uuid.uuid4(), uuid.uuid4(), "email", "alex@example.com", "Facture échue : 1 250,00 €",
                       "Bonjour Alex,\nmerci.", "<p>Bonjour Alex,</p>", template_key="overdue_gentle", to_name="Alex")
    receipt = await sink.send(message)
    folder = tmp_path / "sink" / str(message.tenant_id)
    mail = BytesParser(policy=policy.default).parsebytes((folder / f"{message.message_id}.eml").read_bytes())
    assert receipt == f"sink-{message.message_id}"
    assert mail["Subject"] == "Facture échue : 1 250,00 €" and mail["To"] == "Alex <alex@example.com>"
    assert mail["From"] == "Acme AR <ar@acme.example>" and mail["X-Rapport-Message-Id"] == str(message.message_id)
    assert mail.get_content_type() == "multipart/alternative"
    assert mail.get_boundary() == f"=_rapport_{message.message_id.hex}" and len(mail.get_payload()) == 2
    assert mail.get_body(("plain",)).get_content().startswith("Bonjour Alex,")
    assert mail.get_body(("html",)).get_content().strip() == "<p>Bonjour Alex,</p>"
    summary = json.loads((folder / f"{message.message_id}.json").read_text())
    assert summary["to"] == "alex@example.com" and summary["template_key"] == "overdue_gentle"
    assert not list(folder.glob("*.tmp"))


async def test_sink_writes_sms_as_json_only(tmp_path) -> None:
    sink = SinkProvider(tmp_path, "ar@acme.example", "Acme AR")
    message = Outgoing(uuid.uuid4(), uuid.uuid4(), "sms", "+33612345678", None, "Bonjour", None)
    await sink.send(message)
    files = sorted(p.name for p in (tmp_path / str(message.tenant_id)).iterdir())
    assert files == [f"{message.message_id}.json"]
