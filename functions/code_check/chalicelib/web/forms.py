"""Form bodies: application/x-www-form-urlencoded and multipart/form-data (several files)."""
from email.parser import BytesParser
from email.policy import HTTP

from common import validate, web
from common.i18n import N_

from ..files import names

MAX_BODY = 8 * 1024 * 1024
FORM_EXPIRED = N_("The form has expired or came from another site. Reload the page and try again.")
NO_FILES = N_("Choose one or more .py files.")
TOO_MANY_FILES = N_("At most %(count)s files can be uploaded at once; send the others in another upload.")


def parse(headers, body):
    """(fields {name: text}, files [(file name, bytes)]) of a form post."""
    body = body or b""
    if len(body) > MAX_BODY:
        raise web.AppError(413, N_("The upload is larger than 8 MB in total; send fewer files at once."),
                           field="files")
    content_type = (headers or {}).get("content-type") or ""
    if content_type.split(";")[0].strip().lower() == "multipart/form-data":
        return _multipart(content_type, body)
    return validate.form_fields(body, MAX_BODY, content_type), []


def _multipart(content_type, body):
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n" + body)
    if not message.is_multipart():
        raise web.bad_request(N_("The form could not be read; reload the page and try again."))
    fields, files = {}, []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            validate.clean_text(name, validate.BODY)
        filename = part.get_param("filename", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        if filename is not None:
            # A header byte that is not ASCII comes back surrogate-escaped: such a name is not text.
            validate.clean_text(filename, name or "files")
            if filename or data:  # an empty file input sends a part with no name and no bytes
                files.append((filename, data))
        elif name:
            fields[name] = validate.decoded(data, name, part.get_content_charset())
    if len(files) > names.MAX_FILES:
        # Nothing of the request is stored: the API refuses the same way (payloads.parse_upload).
        raise web.AppError(400, TOO_MANY_FILES, params={"count": names.MAX_FILES}, field="files")
    return fields, files
