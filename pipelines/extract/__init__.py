"""Pure signal extraction: text or HTML in, typed signals out. No Scrapy import anywhere in this package."""
