package io.darkcrawl.analysis;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.fr.FrenchAnalyzer;
import org.apache.lucene.analysis.fr.FrenchLightStemFilter;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.AnalyzerFactory;

/** {@code darkcrawl_french}: elision, French stop words, folding, Lucene's light French stemmer ("passeports" -> "passeport"). */
@NamedComponent("darkcrawl_french")
public class FrenchAnalyzerFactory implements AnalyzerFactory {
    @Override
    public Analyzer create() {
        return new Chain(FrenchAnalyzer.getDefaultStopSet(), FrenchLightStemFilter::new);
    }
}
