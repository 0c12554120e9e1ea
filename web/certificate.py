"""The certificate of service as a PDF (fpdf2) with an embedded CJK font: the person, their shifts and hours,
and the verification code anyone can check at /verify/<code>."""
from __future__ import annotations

import os
from datetime import datetime
from zoneinfo import ZoneInfo

from fpdf import FPDF

from campaigns.hours import ServedShift
from campaigns.models import ServiceCertificate

FONT = "cjk"


class FontMissing(RuntimeError):
    """The configured CJK font file is not there: certificates cannot be drawn."""


def _hours(minutes: int) -> str:
    return f"{minutes / 60:.2f}".rstrip("0").rstrip(".")


def render_certificate(certificate: ServiceCertificate, *, name: str, shifts: list[ServedShift], font_path: str,
                       verify_url: str, timezone_name: str, issuer: str = "Gridmuster") -> bytes:
    """The certificate's PDF bytes; FontMissing (with what to install) when the font file is missing."""
    if not os.path.isfile(font_path):
        raise FontMissing(f"The certificate font {font_path} is missing: install Debian's fonts-wqy-microhei "
                          f"(apt-get install fonts-wqy-microhei) or set GRIDMUSTER_CERTIFICATE_FONT to a TrueType "
                          f"CJK font.")
    pdf = FPDF(format="A4")
    pdf.set_title("志愿服务证明 Certificate of volunteer service")
    pdf.set_author(issuer)
    pdf.set_creator(issuer)
    pdf.add_font(FONT, "", font_path)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    issued = certificate.issued_at.astimezone(ZoneInfo(timezone_name))
    total = certificate.recorded_minutes + certificate.manual_minutes

    pdf.set_font(FONT, size=22)
    pdf.cell(0, 14, "志愿服务证明", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=12)
    pdf.cell(0, 8, "Certificate of volunteer service", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font(FONT, size=13)
    pdf.multi_cell(0, 8, f"兹证明 {name} 参加社区志愿服务 {certificate.shifts} 次，累计服务 {_hours(total)} 小时"
                         f"（签到记录 {_hours(certificate.recorded_minutes)} 小时，补录 "
                         f"{_hours(certificate.manual_minutes)} 小时）。", align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=10)
    pdf.multi_cell(0, 6, f"This certifies that {name} served {certificate.shifts} community volunteer shifts, "
                         f"{_hours(total)} hours in all ({_hours(certificate.recorded_minutes)} recorded by check-in, "
                         f"{_hours(certificate.manual_minutes)} added by hand).", align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    widths = (28, 92, 40, 30)
    pdf.set_font(FONT, size=10)
    pdf.set_fill_color(235, 235, 235)
    for width, title in zip(widths, ("日期 Date", "活动 Activity", "岗位 Role", "小时 Hours")):
        pdf.cell(width, 8, title, border=1, fill=True)
    pdf.ln()
    for item in shifts:
        minutes = item.recorded_minutes + item.manual_minutes
        values = (item.served_on.isoformat(), item.title[:40], item.role[:16],
                  _hours(minutes) + (" *" if item.manual_minutes else ""))
        for width, value in zip(widths, values):
            pdf.cell(width, 7, value, border=1)
        pdf.ln()
    pdf.set_font(FONT, size=8)
    pdf.cell(0, 6, "* 含补录小时 · includes hours added by hand", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font(FONT, size=11)
    pdf.cell(0, 7, f"出具日期 Issued: {issued:%Y-%m-%d}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 7, f"验证码 Verification code: {certificate.code}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 7, f"查验 Check it at: {verify_url}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def issued_on(value: datetime, timezone_name: str) -> str:
    """An issue time as the local date the certificate prints."""
    return value.astimezone(ZoneInfo(timezone_name)).strftime("%Y-%m-%d")
