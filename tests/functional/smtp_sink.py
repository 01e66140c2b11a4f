#!/usr/bin/python3
"""A local SMTP sink for the e-mail tests (Debian's python3-aiosmtpd).

smtp_sink.py DIR [REFUSE_FIRST]: listens on 127.0.0.1 (a free port, written to DIR/port),
answers the first REFUSE_FIRST messages with 451 (try again later), and writes every message
it accepts as DIR/NNN.json: envelope, raw and decoded headers, the text and HTML parts and the
attachments, as Python's email package reads them. Runs until its standard input closes.
"""
import email
import email.policy
import json
import os
import socket
import sys

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, out, refuse):
        self.out = out
        self.refuse = refuse
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        if self.refuse > 0:
            self.refuse -= 1
            return "451 4.3.0 Try again later"
        raw = email.message_from_bytes(envelope.content, policy=email.policy.compat32)
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        text = msg.get_body(("plain",))
        html = msg.get_body(("html",))
        attachments = []
        for part in msg.iter_attachments():
            attachments.append({
                "filename": part.get_filename(),
                "content_type": part.get_content_type(),
                "method": part.get_param("method"),
                "content": part.get_content() if part.get_content_maintype() == "text"
                else part.get_payload(decode=True).decode("utf-8"),
            })
        summary = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "raw_subject": raw.get("Subject"),
            "subject": str(msg["Subject"]),
            "from": str(msg["From"]),
            "to": str(msg["To"]),
            "message_id": str(msg["Message-ID"]),
            "date": str(msg["Date"]),
            "content_type": msg.get_content_type(),
            "text": text.get_content() if text is not None else None,
            "html": html.get_content() if html is not None else None,
            "attachments": attachments,
        }
        self.count += 1
        path = os.path.join(self.out, "%03d.json" % self.count)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(summary, f, ensure_ascii=False)
        os.rename(path + ".tmp", path)
        return "250 OK"


def main():
    out = sys.argv[1]
    refuse = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Handler(out, refuse), hostname="127.0.0.1", port=port)
    controller.start()
    with open(os.path.join(out, "port.tmp"), "w") as f:
        f.write(str(port))
    os.rename(os.path.join(out, "port.tmp"), os.path.join(out, "port"))
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
