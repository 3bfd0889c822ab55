package org.m3ae.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.Callable;
import org.m3ae.model.BuildOptions;
import org.m3ae.model.M3aeGraph;
import org.m3ae.model.M3aeModel;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.Names;
import org.m3ae.model.ParameterCount;
import org.m3ae.model.Pass;
import org.m3ae.model.RandomInputs;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.m3ae.model.PassSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code info}: builds a model's graph (weights zero-filled, so it is quick) and reports its size. */
@Command(name = "info", mixinStandardHelpOptions = true,
    description = "Build the graph of a model config and print parameter counts per module and token counts.")
public final class InfoCommand implements Callable<Integer> {
  @Option(names = "--config", required = true, description = "Model config YAML (configs/models/*.yaml).")
  Path config;

  @Option(names = "--json", description = "Print one JSON object instead of a table.")
  boolean json;

  @Option(names = "--forward", description = "Also initialise random weights and time forward passes of the joint "
      + "feature on random inputs (the inference path).")
  boolean forward;

  @Option(names = "--batch", defaultValue = "1", description = "Batch size for --forward (default ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--repeats", defaultValue = "3", description = "Timed forwards after one warm-up (default ${DEFAULT-VALUE}).")
  int repeats;

  @Override
  public Integer call() throws Exception {
    ModelConfig cfg = ModelConfig.load(config);
    long t0 = System.nanoTime();
    // One pass with every pre-training head, so the heads' weights exist and are counted.
    PassSpec pass = PassSpec.inference().withHeads(PassSpec.Head.MLM, PassSpec.Head.MIM, PassSpec.Head.ITM);
    M3aeGraph g = M3aeModel.build(cfg, BuildOptions.defaults().withRandomInit(false).withPass(pass));
    double buildS = (System.nanoTime() - t0) / 1e9;
    ParameterCount pc = ParameterCount.of(g);
    if (forward) return timeForward(cfg);
    Map<String, Long> paper = pc.paperTable1(cfg);

    if (json) {
      ObjectMapper om = new ObjectMapper();
      ObjectNode root = om.createObjectNode();
      root.put("config", cfg.name());
      ObjectNode p = root.putObject("params");
      p.put("vision", pc.vision());
      p.put("text", pc.text());
      p.put("fusion", pc.fusion());
      p.put("projections", pc.projections());
      p.put("poolers", pc.poolers());
      ObjectNode h = p.putObject("heads");
      h.put("mlm", pc.mlm());
      h.put("mim", pc.mim());
      h.put("itm", pc.itm());
      p.put("mim_fixed_positions", pc.mimFixed());
      p.put("backbone", pc.backbone());
      p.put("total", pc.total());
      ObjectNode t = root.putObject("paper_table1");
      paper.forEach(t::put);
      ObjectNode tok = root.putObject("tokens");
      tok.put("image", cfg.vision().numTokens());
      tok.put("image_visible_mim", cfg.mimKeep() + 1);
      tok.put("text", cfg.text().maxTextLen());
      System.out.println(om.writeValueAsString(root));
      return 0;
    }
    var v = cfg.vision();
    System.out.printf("%s  (graph built in %.1f s, %d variables)%n", cfg.name(), buildS, g.trainable().size());
    System.out.printf("  image   %d px, patch %d: %d tokens (%d patches + CLS); MIM keeps %d (+CLS)%n",
        v.imageSize(), v.patchSize(), v.numTokens(), v.numPatches(), cfg.mimKeep());
    System.out.printf("  text    %d tokens, vocab %d%n", cfg.text().maxTextLen(), cfg.text().vocabSize());
    System.out.printf("  layers  vision %d, text %d, fusion %d per stream (MIM reads after %d)%n",
        v.encoder().layers(), cfg.text().encoder().layers(), cfg.fusion().layers(), cfg.mimFusionLayer());
    System.out.println();
    System.out.printf("  %-28s %15s%n", "module", "parameters");
    row("vision encoder", pc.vision());
    row("text encoder", pc.text());
    row("fusion (both streams)", pc.fusion());
    row("projections + modality emb.", pc.projections());
    row("poolers", pc.poolers());
    row("backbone", pc.backbone());
    row("MLM head", pc.mlm());
    row("MIM head (trainable)", pc.mim());
    row("MIM fixed positions", pc.mimFixed());
    row("ITM head", pc.itm());
    row("total (trainable)", pc.total());
    System.out.println();
    System.out.println("  paper Table 1 accounting (image @384 px + unused CLIP text tower; text + pooler):");
    paper.forEach((k, val) -> row("  " + k, val));
    return 0;
  }

  /** Builds the inference graph with random weights and times forwards of the joint feature. */
  private int timeForward(ModelConfig cfg) {
    long t0 = System.nanoTime();
    M3aeGraph g = M3aeModel.build(cfg, BuildOptions.defaults());
    Pass p = g.pass("");
    System.out.printf("%s: built with random weights in %.1f s%n", cfg.name(), (System.nanoTime() - t0) / 1e9);
    Map<String, INDArray> in = RandomInputs.forPass(g, p, batch, cfg.init().seed());
    double[] ms = new double[repeats + 1];
    INDArray joint = null;
    for (int r = 0; r <= repeats; r++) {
      long s = System.nanoTime();
      joint = g.sd().output(in, p.name(Names.JOINT)).get(p.name(Names.JOINT));
      ms[r] = (System.nanoTime() - s) / 1e6;
      System.out.printf("  %s forward %d: %.0f ms (batch %d)%n", r == 0 ? "warm-up" : "timed", r, ms[r], batch);
    }
    double[] timed = Arrays.copyOfRange(ms, 1, ms.length);
    Arrays.sort(timed);
    double median = timed.length == 0 ? ms[0] : timed[timed.length / 2];
    System.out.printf("joint %s, median %.0f ms per forward, %.1f ms per pair%n",
        Arrays.toString(joint.shape()), median, median / batch);
    return 0;
  }

  private static void row(String name, long n) {
    System.out.printf("  %-28s %,15d%n", name, n);
  }
}
