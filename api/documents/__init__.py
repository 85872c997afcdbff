"""Documents people read: the valuation report (and, with the pledge book, the guarantee
certificate), as HTML and PDF, in English and Chinese.

One document is built once as plain data (`ipvalue.api.documents.valuation`), drawn
(`charts`), written out as HTML by a Jinja template and printed to PDF from that same HTML
(`render`), so the two formats never disagree.
"""
