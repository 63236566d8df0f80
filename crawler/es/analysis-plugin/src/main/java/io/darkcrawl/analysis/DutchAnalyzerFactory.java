package io.darkcrawl.analysis;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.nl.DutchAnalyzer;
import org.apache.lucene.analysis.snowball.SnowballFilter;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.AnalyzerFactory;
import org.tartarus.snowball.ext.DutchStemmer;

/** {@code darkcrawl_dutch}: Dutch stop words, folding, the Snowball Dutch stemmer ("paspoorten" -> "paspoort"). */
@NamedComponent("darkcrawl_dutch")
public class DutchAnalyzerFactory implements AnalyzerFactory {
    @Override
    public Analyzer create() {
        return new Chain(DutchAnalyzer.getDefaultStopSet(), stream -> new SnowballFilter(stream, new DutchStemmer()));
    }
}
