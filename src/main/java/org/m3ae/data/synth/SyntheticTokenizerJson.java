package org.m3ae.data.synth;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The synthetic dataset's tokenizer, generated from the generator's own vocabulary (no file from
 * elsewhere): a BERT-style WordPiece {@code tokenizer.json} that DJL loads. Besides the template
 * words it holds single characters and their {@code ##} continuations, so any lower-case
 * alphanumeric text a user adds still tokenises without {@code [UNK]}.
 */
public final class SyntheticTokenizerJson {

  public static final List<String> SPECIALS = List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]");
  private static final String CHARS = "abcdefghijklmnopqrstuvwxyz0123456789";
  private static final String PUNCT = ".,?!:;'\"-/()";

  private SyntheticTokenizerJson() {}

  /** Token to id: specials 0-4, punctuation, characters, {@code ##}characters, then the words. */
  public static Map<String, Integer> vocabulary() {
    Map<String, Integer> v = new LinkedHashMap<>();
    for (String s : SPECIALS) v.put(s, v.size());
    for (char c : PUNCT.toCharArray()) v.put(String.valueOf(c), v.size());
    for (char c : CHARS.toCharArray()) v.put(String.valueOf(c), v.size());
    for (char c : CHARS.toCharArray()) v.put("##" + c, v.size());
    for (String w : SyntheticScene.WORDS) v.putIfAbsent(w, v.size());
    return v;
  }

  public static String build() {
    ObjectMapper om = new ObjectMapper();
    ObjectNode root = om.createObjectNode();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    ArrayNode added = root.putArray("added_tokens");
    for (int i = 0; i < SPECIALS.size(); i++) {
      ObjectNode t = added.addObject();
      t.put("id", i).put("content", SPECIALS.get(i)).put("single_word", false).put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
    }
    ObjectNode norm = root.putObject("normalizer");
    norm.put("type", "BertNormalizer").put("clean_text", true).put("handle_chinese_chars", true).putNull("strip_accents");
    norm.put("lowercase", true);
    root.putObject("pre_tokenizer").put("type", "BertPreTokenizer");
    ObjectNode post = root.putObject("post_processor");
    post.put("type", "TemplateProcessing");
    ArrayNode single = post.putArray("single");
    single.addObject().putObject("SpecialToken").put("id", "[CLS]").put("type_id", 0);
    single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
    single.addObject().putObject("SpecialToken").put("id", "[SEP]").put("type_id", 0);
    ArrayNode pair = post.putArray("pair");
    pair.addObject().putObject("SpecialToken").put("id", "[CLS]").put("type_id", 0);
    pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
    pair.addObject().putObject("SpecialToken").put("id", "[SEP]").put("type_id", 0);
    pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
    pair.addObject().putObject("SpecialToken").put("id", "[SEP]").put("type_id", 1);
    ObjectNode st = post.putObject("special_tokens");
    for (String s : List.of("[CLS]", "[SEP]")) {
      ObjectNode e = st.putObject(s);
      e.put("id", s);
      e.putArray("ids").add(SPECIALS.indexOf(s));
      e.putArray("tokens").add(s);
    }
    root.putObject("decoder").put("type", "WordPiece").put("prefix", "##").put("cleanup", true);
    ObjectNode model = root.putObject("model");
    model.put("type", "WordPiece").put("unk_token", "[UNK]").put("continuing_subword_prefix", "##").put("max_input_chars_per_word", 100);
    ObjectNode vocab = model.putObject("vocab");
    vocabulary().forEach(vocab::put);
    try {
      return om.writerWithDefaultPrettyPrinter().writeValueAsString(root);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
