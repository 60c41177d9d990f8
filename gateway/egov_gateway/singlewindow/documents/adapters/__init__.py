"""Renderers of a document: PDF (ReportLab), the verification QR code (segno)."""
