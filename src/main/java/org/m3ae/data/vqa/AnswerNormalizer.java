package org.m3ae.data.vqa;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * M3AE's answer normalisation (SPEC §3.2): lower-case, then {@code normalize_word} of
 * {@code prepro/glossary.py}, the VQA evaluation rules: punctuation stripped or turned into spaces,
 * periods not followed by a digit removed, number words to digits, articles dropped, missing
 * apostrophes of contractions restored, commas removed.
 */
public final class AnswerNormalizer {

  private AnswerNormalizer() {}

  private static final List<String> PUNCT =
      List.of(";", "/", "[", "]", "\"", "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@", "`", ",", "?", "!");
  // The glossary's "(?!<=\d)" is a lookahead (a typo for a lookbehind); kept as written.
  private static final Pattern PERIOD_STRIP = Pattern.compile("(?!<=\\d)(\\.)(?!\\d)");
  private static final Pattern COMMA_STRIP = Pattern.compile("(\\d)(,)(\\d)");
  private static final Set<String> ARTICLES = Set.of("a", "an", "the");
  private static final Map<String, String> NUMBERS =
      Map.ofEntries(Map.entry("none", "0"), Map.entry("zero", "0"), Map.entry("one", "1"), Map.entry("two", "2"), Map.entry("three", "3"), Map.entry("four", "4"),
          Map.entry("five", "5"), Map.entry("six", "6"), Map.entry("seven", "7"), Map.entry("eight", "8"), Map.entry("nine", "9"), Map.entry("ten", "10"));
  private static final Map<String, String> CONTRACTIONS = contractions();

  /** {@code normalize_word(str(answer).lower())}. */
  public static String normalize(String answer) {
    String token = answer.toLowerCase(Locale.ROOT);
    String t = token;
    boolean commaNumber = COMMA_STRIP.matcher(token).find();
    for (String p : PUNCT) {
      if (token.contains(p + " ") || token.contains(" " + p) || commaNumber) t = t.replace(p, "");
      else t = t.replace(p, " ");
    }
    token = PERIOD_STRIP.matcher(t).replaceAll("");
    List<String> words = new ArrayList<>();
    for (String w : token.toLowerCase(Locale.ROOT).trim().split("\\s+")) {
      if (w.isEmpty()) continue;
      w = NUMBERS.getOrDefault(w, w);
      if (!ARTICLES.contains(w)) words.add(CONTRACTIONS.getOrDefault(w, w));
    }
    return String.join(" ", words).replace(",", "");
  }

  private static Map<String, String> contractions() {
    String[] pairs = {
      "aint", "ain't", "arent", "aren't", "cant", "can't", "couldve", "could've", "couldnt", "couldn't", "couldn'tve", "couldn't've",
      "couldnt've", "couldn't've", "didnt", "didn't", "doesnt", "doesn't", "dont", "don't", "hadnt", "hadn't", "hadnt've", "hadn't've",
      "hadn'tve", "hadn't've", "hasnt", "hasn't", "havent", "haven't", "hed", "he'd", "hed've", "he'd've", "he'dve", "he'd've", "hes", "he's",
      "howd", "how'd", "howll", "how'll", "hows", "how's", "Id've", "I'd've", "I'dve", "I'd've", "Im", "I'm", "Ive", "I've", "isnt", "isn't",
      "itd", "it'd", "itd've", "it'd've", "it'dve", "it'd've", "itll", "it'll", "let's", "let's", "maam", "ma'am", "mightnt", "mightn't",
      "mightnt've", "mightn't've", "mightn'tve", "mightn't've", "mightve", "might've", "mustnt", "mustn't", "mustve", "must've", "neednt",
      "needn't", "notve", "not've", "oclock", "o'clock", "oughtnt", "oughtn't", "ow's'at", "'ow's'at", "'ows'at", "'ow's'at", "'ow'sat",
      "'ow's'at", "shant", "shan't", "shed've", "she'd've", "she'dve", "she'd've", "she's", "she's", "shouldve", "should've", "shouldnt",
      "shouldn't", "shouldnt've", "shouldn't've", "shouldn'tve", "shouldn't've", "somebody'd", "somebodyd", "somebodyd've", "somebody'd've",
      "somebody'dve", "somebody'd've", "somebodyll", "somebody'll", "somebodys", "somebody's", "someoned", "someone'd", "someoned've",
      "someone'd've", "someone'dve", "someone'd've", "someonell", "someone'll", "someones", "someone's", "somethingd", "something'd",
      "somethingd've", "something'd've", "something'dve", "something'd've", "somethingll", "something'll", "thats", "that's", "thered",
      "there'd", "thered've", "there'd've", "there'dve", "there'd've", "therere", "there're", "theres", "there's", "theyd", "they'd",
      "theyd've", "they'd've", "they'dve", "they'd've", "theyll", "they'll", "theyre", "they're", "theyve", "they've", "twas", "'twas",
      "wasnt", "wasn't", "wed've", "we'd've", "we'dve", "we'd've", "weve", "we've", "werent", "weren't", "whatll", "what'll", "whatre",
      "what're", "whats", "what's", "whatve", "what've", "whens", "when's", "whered", "where'd", "wheres", "where's", "whereve", "where've",
      "whod", "who'd", "whod've", "who'd've", "who'dve", "who'd've", "wholl", "who'll", "whos", "who's", "whove", "who've", "whyll", "why'll",
      "whyre", "why're", "whys", "why's", "wont", "won't", "wouldve", "would've", "wouldnt", "wouldn't", "wouldnt've", "wouldn't've",
      "wouldn'tve", "wouldn't've", "yall", "y'all", "yall'll", "y'all'll", "y'allll", "y'all'll", "yall'd've", "y'all'd've", "y'alld've",
      "y'all'd've", "y'all'dve", "y'all'd've", "youd", "you'd", "youd've", "you'd've", "you'dve", "you'd've", "youll", "you'll", "youre",
      "you're", "youve", "you've"
    };
    java.util.HashMap<String, String> m = new java.util.HashMap<>();
    for (int i = 0; i < pairs.length; i += 2) m.put(pairs[i], pairs[i + 1]);
    return Map.copyOf(m);
  }
}
