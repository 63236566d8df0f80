"""darkcrawl's Scrapy spiders (see scrapy.cfg: the project settings module is ``crawler.settings``)."""
