package io.darkcrawl.analysis;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.analysis.en.EnglishPossessiveFilter;
import org.apache.lucene.analysis.en.PorterStemFilter;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.AnalyzerFactory;

/** {@code darkcrawl_english}: English stop words, folding, possessives dropped, the Porter stemmer ("vendors" -> "vendor"). */
@NamedComponent("darkcrawl_english")
public class EnglishAnalyzerFactory implements AnalyzerFactory {
    @Override
    public Analyzer create() {
        return new Chain(
            EnglishAnalyzer.getDefaultStopSet(),
            stream -> new PorterStemFilter(new EnglishPossessiveFilter(stream))
        );
    }
}
