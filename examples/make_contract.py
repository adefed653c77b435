"""Make ``examples/contract.pdf``: the two-page bilingual sample contract the README signs.

Run from the repository root: ``.venv/bin/python examples/make_contract.py``. The output is
byte for byte the same on every run (ReportLab's invariant mode), so the checked-in file can
be compared with a fresh build.
"""

from __future__ import annotations

import sys
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

OUT = Path(__file__).resolve().parent / "contract.pdf"
CJK = "STSong-Light"  # one of the PDF standard CJK fonts: nothing to embed or install
LATIN = "Helvetica"

PAGES: list[list[tuple[str, str]]] = [
    [
        ("title", "供货合同 / Supply Contract No. 2026-17"),
        ("p", "甲方（买方）：上海示例科技有限公司"),
        ("p", "Party A (Buyer): Shanghai Example Technology Co., Ltd."),
        ("p", "乙方（卖方）：Alice Zhang"),
        ("p", "Party B (Seller): Alice Zhang"),
        ("h", "第一条 标的 / Article 1. Subject matter"),
        ("p", "乙方向甲方供应电子元器件一批，规格与数量见附件一。"),
        ("p", "The Seller supplies the Buyer with the electronic components listed in Annex 1."),
        ("h", "第二条 价款 / Article 2. Price"),
        ("p", "合同总价为人民币壹拾贰万元整（¥120,000.00），含税。"),
        ("p", "The total price is CNY 120,000.00, taxes included."),
        ("h", "第三条 交付 / Article 3. Delivery"),
        ("p", "乙方应于2026年12月31日前将货物交付至甲方指定仓库。"),
        ("p", "The Seller delivers the goods to the Buyer's warehouse by 31 December 2026."),
    ],
    [
        ("h", "第四条 验收 / Article 4. Acceptance"),
        ("p", "甲方应在收货后十个工作日内完成验收。"),
        ("p", "The Buyer inspects the goods within ten working days of receipt."),
        ("h", "第五条 争议解决 / Article 5. Disputes"),
        ("p", "因本合同引起的争议，提交上海国际仲裁中心仲裁。"),
        ("p", "Disputes arising from this contract go to the Shanghai International"),
        ("p", "Arbitration Centre."),
        ("h", "签署 / Signatures"),
        ("p", "乙方签字 / Seller's signature:"),
        ("p", "日期 / Date:"),
        ("p", ""),
        ("p", ""),
        ("p", "甲方盖章 / Buyer's seal:"),
    ],
]


def _runs(text: str) -> list[tuple[str, str]]:
    """``text`` cut into (font, run): Chinese in the CJK font, the rest in Helvetica."""
    runs: list[tuple[str, str]] = []
    for char in text:
        font = CJK if ord(char) > 0x2E7F else LATIN
        if runs and runs[-1][0] == font:
            runs[-1] = (font, runs[-1][1] + char)
        else:
            runs.append((font, char))
    return runs


def _draw(pdf: canvas.Canvas, x: float, y: float, text: str, size: float) -> float:
    """Draw ``text`` from ``x``; return its width."""
    start = x
    for font, run in _runs(text):
        pdf.setFont(font, size)
        pdf.drawString(x, y, run)
        x += pdfmetrics.stringWidth(run, font, size)
    return x - start


def _width(text: str, size: float) -> float:
    return sum(pdfmetrics.stringWidth(run, font, size) for font, run in _runs(text))


def build(out: Path = OUT) -> bytes:
    """Draw the contract; write it to ``out`` and return its bytes."""
    pdfmetrics.registerFont(UnicodeCIDFont(CJK))
    pdf = canvas.Canvas(str(out), pagesize=A4, invariant=1)
    pdf.setTitle("供货合同 / Supply Contract 2026-17")
    pdf.setAuthor("Sealtrail example")
    width, height = A4
    for number, lines in enumerate(PAGES, start=1):
        y = height - 72
        for kind, text in lines:
            size = {"title": 16, "h": 12}.get(kind, 10.5)
            if kind == "title":
                _draw(pdf, (width - _width(text, size)) / 2, y, text, size)
                y -= 36
                continue
            if kind == "h":
                y -= 8
            _draw(pdf, 60, y, text, size)
            y -= size + 9
        footer = f"第 {number} 页，共 {len(PAGES)} 页 / Page {number} of {len(PAGES)}"
        _draw(pdf, (width - _width(footer, 9)) / 2, 40, footer, 9)
        pdf.showPage()
    pdf.save()
    return out.read_bytes()


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    print(f"{target}: {len(build(target))} bytes")
