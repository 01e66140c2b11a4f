#!/usr/bin/env python3
"""Reads an export with Python's csv module, an RFC 4180 reader independent of the events API.

Usage: csv_check.py FILE URL [TOKEN]
Prints one JSON object: whether the body in FILE starts with a UTF-8 BOM, whether writing the
parsed rows back with RFC 4180 rules (CRLF, quotes doubled, a field quoted exactly when it holds
a comma, a semicolon, a quote, a tab, CR or LF: the exports' rule) gives the very same bytes,
the rows, and the file names that Python's e-mail parser (RFC 2231/5987 decoding) reads from
the Content-Disposition of a HEAD request to URL (with the bearer TOKEN, if given). The
header is read here, byte for byte, because cpp-httplib 0.11 percent-decodes header values.
"""
import csv
import io
import json
import sys
import urllib.parse
from http.client import HTTPConnection
from email.message import Message
from email.utils import collapse_rfc2231_value


def field(value):
    """A field as the exports write it: quoted when it holds any of , ; " tab CR LF."""
    if any(c in value for c in ',;"\t\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def main():
    path, url = sys.argv[1], sys.argv[2]
    token = sys.argv[3] if len(sys.argv) > 3 else ''
    parts = urllib.parse.urlsplit(url)
    connection = HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {'Authorization': 'Bearer ' + token} if token else {}
    connection.request('HEAD', parts.path, headers=headers)
    answer = connection.getresponse()
    answer.read()
    # http.client decodes header bytes as ISO-8859-1: back to the bytes, then UTF-8.
    disposition = (answer.getheader('Content-Disposition') or '').encode('iso-8859-1').decode()
    connection.close()
    with open(path, 'rb') as f:
        raw = f.read()
    bom = raw.startswith(b'\xef\xbb\xbf')
    text = raw[3:].decode('utf-8') if bom else raw.decode('utf-8')
    rows = list(csv.reader(io.StringIO(text, newline=''), strict=True))
    written = ''.join(','.join(field(value) for value in row) + '\r\n' for row in rows)
    message = Message()
    message['Content-Disposition'] = disposition
    params = message.get_params(header='content-disposition')
    ascii_name = None
    utf8_name = None
    for name, value in params[1:]:
        if name == 'filename' and isinstance(value, tuple):
            utf8_name = collapse_rfc2231_value(value)  # filename*=UTF-8''...
        elif name == 'filename':
            ascii_name = value
    print(json.dumps({
        'head_status': answer.status,
        'raw_disposition': disposition,
        'bom': bom,
        'rfc4180_roundtrip': written == text,
        'rows': rows,
        'disposition': params[0][0],
        'filename': utf8_name,
        'ascii_filename': ascii_name,
    }))


if __name__ == '__main__':
    main()
