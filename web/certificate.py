"""PDFs (fpdf2) with an embedded CJK font: the certificate of service (the person, their shifts and hours, and the
verification code anyone can check at /verify/<code>) and the 双报到 quarterly report of a party organisation."""
from __future__ import annotations

import logging
import os

from fpdf import FPDF

from campaigns.hours import ServedShift
from campaigns.models import ServiceCertificate
from core.errors import DomainError
from core.i18n import _, _l, local_datetime

FONT = "cjk"
log = logging.getLogger(__name__)


class FontMissing(DomainError):
    """The configured CJK font file is not there: no PDF can be drawn (503 through the app's error handler; the
    path and what to install go to the log, not to the person asking)."""

    status_code = 503
    code = "font_missing"


def _hours(minutes: int) -> str:
    return f"{minutes / 60:.2f}".rstrip("0").rstrip(".")


def _new_pdf(title: str, *, font_path: str, issuer: str) -> FPDF:
    """An A4 document with its first page and the CJK font loaded; FontMissing (with what to install) when the font
    file is missing."""
    if not os.path.isfile(font_path):
        log.error("The PDF font %s is missing: install Debian's fonts-wqy-microhei (apt-get install "
                  "fonts-wqy-microhei) or set GRIDMUSTER_CERTIFICATE_FONT to a TrueType CJK font.", font_path)
        raise FontMissing(_l("The PDF cannot be drawn now: the server is missing its Chinese font. Please tell the office."))
    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_author(issuer)
    pdf.set_creator(issuer)
    pdf.add_font(FONT, "", font_path)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    return pdf


def _table(pdf: FPDF, widths: tuple[int, ...], headings, rows) -> None:
    """A bordered table with a shaded heading row."""
    pdf.set_font(FONT, size=10)
    pdf.set_fill_color(235, 235, 235)
    for width, heading in zip(widths, headings):
        pdf.cell(width, 8, str(heading), border=1, fill=True)
    pdf.ln()
    for values in rows:
        for width, value in zip(widths, values):
            pdf.cell(width, 7, str(value), border=1)
        pdf.ln()


def render_certificate(certificate: ServiceCertificate, *, name: str, shifts: list[ServedShift], font_path: str,
                       verify_url: str, issuer: str = "Gridmuster") -> bytes:
    """The certificate's PDF bytes in the language being spoken (the page's that asked for it); FontMissing (with
    what to install) when the font file is missing."""
    title = _("Certificate of volunteer service")
    pdf = _new_pdf(title, font_path=font_path, issuer=issuer)
    total = certificate.recorded_minutes + certificate.manual_minutes

    pdf.set_font(FONT, size=22)
    pdf.cell(0, 14, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font(FONT, size=13)
    pdf.multi_cell(0, 8, _("This certifies that %(name)s served %(shifts)s community volunteer shifts, %(hours)s hours "
                           "in all (%(recorded)s recorded by check-in, %(manual)s added by hand).",
                           name=name, shifts=certificate.shifts, hours=_hours(total),
                           recorded=_hours(certificate.recorded_minutes), manual=_hours(certificate.manual_minutes)),
                   align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    _table(pdf, (28, 92, 40, 30), (_("Date"), _("Activity"), _("Role"), _("Hours")),
           ((item.served_on.isoformat(), item.title[:40], item.role[:16],
             _hours(item.recorded_minutes + item.manual_minutes) + (" *" if item.manual_minutes else ""))
            for item in shifts))
    pdf.set_font(FONT, size=8)
    pdf.cell(0, 6, _("* includes hours added by hand"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font(FONT, size=11)
    pdf.cell(0, 7, _("Issued: %(date)s", date=local_datetime(certificate.issued_at, "yyyy-MM-dd")),
             new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 7, _("Verification code: %(code)s", code=certificate.code), new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 7, _("Check it at: %(url)s", url=verify_url), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def render_party_report(report, *, columns, font_path: str, issuer: str = "Gridmuster") -> bytes:
    """The 双报到 quarterly report (``campaigns.party_report.PartyOrgReport``) as a PDF in the language being
    spoken: the organisation, the quarter, one row per member and the totals."""
    title = _("%(org)s · Party members' community service · %(quarter)s", org=report.org.name,
              quarter=report.quarter.label)
    pdf = _new_pdf(title, font_path=font_path, issuer=issuer)
    pdf.set_font(FONT, size=15)
    pdf.multi_cell(0, 9, title, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    totals = report.totals
    rows = [[getattr(member, key) for _title, key in columns] for member in report.members]
    rows.append([_("Total"), "", "", totals["called"], totals["accepted"], totals["attended"], totals["hours"]])
    _table(pdf, (26, 40, 28, 22, 22, 22, 26), [heading for heading, _key in columns],
           ([str(value)[:18] for value in row] for row in rows))
    return bytes(pdf.output())
