package io.darkcrawl.analysis;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.CharArraySet;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.AnalyzerFactory;

/**
 * {@code darkcrawl_folded}: elision, lower case and ASCII folding, no stop words and no stemming: the exact words of
 * any language, accents and case ignored ("hebergement" finds "Hébergement", "identité" finds "d'identité").
 */
@NamedComponent("darkcrawl_folded")
public class FoldedAnalyzerFactory implements AnalyzerFactory {
    @Override
    public Analyzer create() {
        return new Chain(CharArraySet.EMPTY_SET, stream -> stream);
    }
}
