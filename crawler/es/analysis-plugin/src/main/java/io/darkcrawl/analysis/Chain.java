package io.darkcrawl.analysis;

import java.util.function.UnaryOperator;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.LowerCaseFilter;
import org.apache.lucene.analysis.StopFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.Tokenizer;
import org.apache.lucene.analysis.fr.FrenchAnalyzer;
import org.apache.lucene.analysis.miscellaneous.ASCIIFoldingFilter;
import org.apache.lucene.analysis.standard.StandardTokenizer;
import org.apache.lucene.analysis.util.ElisionFilter;

/**
 * One analysis chain of darkcrawl: the standard tokenizer, then lower case, ASCII folding and the filters of a
 * language (stop words, stemming). Folding comes before stemming so that a query typed without accents
 * ("hebergement") is analysed exactly as the accented text ("hébergement"); French elision ("d'identité" ->
 * "identité") comes first, in every chain, because pages mix languages.
 */
final class Chain extends Analyzer {
    private final CharArraySet stopWords;
    private final UnaryOperator<TokenStream> stemming;

    /** A chain removing {@code stopWords} (may be empty) and then applying {@code stemming} (may be identity). */
    Chain(CharArraySet stopWords, UnaryOperator<TokenStream> stemming) {
        this.stopWords = stopWords;
        this.stemming = stemming;
    }

    @Override
    protected TokenStreamComponents createComponents(String fieldName) {
        Tokenizer source = new StandardTokenizer();
        TokenStream stream = new ElisionFilter(source, FrenchAnalyzer.DEFAULT_ARTICLES);
        stream = new LowerCaseFilter(stream);
        if (!stopWords.isEmpty()) {
            stream = new StopFilter(stream, stopWords);
        }
        stream = new ASCIIFoldingFilter(stream);
        return new TokenStreamComponents(source, stemming.apply(stream));
    }

    /** What prefix and wildcard query terms go through: the same case and accent folding, no stemming. */
    @Override
    protected TokenStream normalize(String fieldName, TokenStream in) {
        return new ASCIIFoldingFilter(new LowerCaseFilter(in));
    }
}
