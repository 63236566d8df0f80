package io.darkcrawl.analysis;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.de.GermanAnalyzer;
import org.apache.lucene.analysis.de.GermanLightStemFilter;
import org.apache.lucene.analysis.de.GermanNormalizationFilter;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.AnalyzerFactory;

/** {@code darkcrawl_german}: German stop words, folding (ß -> ss), German normalisation, the light German stemmer. */
@NamedComponent("darkcrawl_german")
public class GermanAnalyzerFactory implements AnalyzerFactory {
    @Override
    public Analyzer create() {
        return new Chain(
            GermanAnalyzer.getDefaultStopSet(),
            stream -> new GermanLightStemFilter(new GermanNormalizationFilter(stream))
        );
    }
}
