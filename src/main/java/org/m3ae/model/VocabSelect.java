package org.m3ae.model;

import java.util.Arrays;
import java.util.Collection;
import java.util.Map;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Word lookups of training passes through the step's own vocabulary ({@link Nn#wordEmbedding} with
 * {@code sparseText}): the distinct token ids of the passes' {@code text_ids} ({@link #IDS}, sorted), the table's
 * rows for them in the variable {@link #ROWS}, and per pass the one-hot [B·Lt, U] that picks each token's row
 * ({@code <pass>/text_select}); U is padded to a {@link Buckets} size with id -1 and zero rows. A batch of 8 captions of 64 tokens has a few hundred distinct ids, so the product is
 * [512, U]·[U, D] instead of [512, 50265]·[50265, D]; the table's gradient is the rows' gradient scattered back.
 */
public final class VocabSelect {
  /** The word table the rows come from. */
  public static final String TABLE = TextEncoder.P + "embeddings.word_embeddings.weight";
  /** The variable holding the table's rows of the step's distinct ids, [U, D]; not a model weight. */
  public static final String ROWS = "vocab_rows";
  /** Feed entry (not a placeholder): the distinct ids, int32 [U], for {@link #scatter}. */
  public static final String IDS = "vocab_ids";
  /** Per-pass placeholder (qualified by the pass name): one-hot [B·Lt, U]. */
  public static final String SELECT = "text_select";

  private VocabSelect() {}

  /**
   * Adds {@link #IDS} and each pass's selection to {@code feed} from the passes' {@code text_ids} in it, and sets
   * {@link #ROWS} of every graph in {@code graphs} that has it to the rows of {@code table} for those ids.
   */
  public static void prepare(Map<String, INDArray> feed, Collection<String> passes, INDArray table,
      Collection<SameDiff> graphs) {
    int[][] ids = new int[passes.size()][];
    int n = 0;
    for (String p : passes) {
      INDArray t = feed.get(Names.qualified(p, Names.TEXT_IDS));
      if (t == null) throw new IllegalArgumentException("feed has no '" + Names.qualified(p, Names.TEXT_IDS) + "' to select words for");
      ids[n++] = t.castTo(DataType.INT32).dup('c').data().asInt();
    }
    int[] vocab = Arrays.stream(ids).flatMapToInt(Arrays::stream).distinct().sorted().toArray();
    long rows = table.rows();
    if (vocab.length > 0 && (vocab[0] < 0 || vocab[vocab.length - 1] >= rows)) {
      throw new IllegalArgumentException("token id " + (vocab[0] < 0 ? vocab[0] : vocab[vocab.length - 1])
          + " outside the word table of " + rows + " rows");
    }
    // U padded to a bucket (Buckets): padding ids are -1, their rows zero and selected by no token, so they add
    // exact zeros to the products and receive no gradient.
    int u = Buckets.up(vocab.length);
    int[] padded = Arrays.copyOf(vocab, u);
    Arrays.fill(padded, vocab.length, u, -1);
    feed.put(IDS, Nd4j.createFromArray(padded));
    n = 0;
    for (String p : passes) {
      int[] row = ids[n++];
      float[] sel = new float[row.length * u];
      for (int i = 0; i < row.length; i++) sel[i * u + Arrays.binarySearch(vocab, row[i])] = 1f;
      feed.put(Names.qualified(p, SELECT), Nd4j.create(sel, new long[] {row.length, u}, 'c').castTo(table.dataType()));
    }
    INDArray picked = Nd4j.zeros(table.dataType(), u, table.columns()); // [U, D]
    if (vocab.length > 0) {
      picked.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, vocab.length),
          org.nd4j.linalg.indexing.NDArrayIndex.all()).assign(Nd4j.pullRows(table, 1, vocab));
    }
    for (SameDiff sd : graphs) if (sd.hasVariable(ROWS)) sd.getVariable(ROWS).setArray(picked);
  }

  /**
   * Replaces the gradient of {@link #ROWS} in {@code grads} by the table's: zero except the rows of the step's ids
   * (distinct, so each row receives exactly its own gradient), added to any gradient the table already has.
   */
  public static void scatter(Map<String, INDArray> grads, Map<String, INDArray> feed, long[] tableShape) {
    INDArray g = grads.remove(ROWS);
    if (g == null) return;
    INDArray ids = feed.get(IDS);
    if (ids == null) throw new IllegalStateException("gradient of " + ROWS + " without the step's " + IDS);
    INDArray full = Nd4j.zeros(g.dataType(), tableShape);
    int[] v = ids.castTo(DataType.INT32).data().asInt();
    for (int i = 0; i < v.length; i++) if (v[i] >= 0) full.putRow(v[i], g.getRow(i)); // -1: bucket padding
    grads.merge(TABLE, full, INDArray::addi);
  }
}
