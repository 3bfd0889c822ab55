package org.m3ae.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.m3ae.tasks.Predictor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "predict", mixinStandardHelpOptions = true,
    description = "Answer a question about one image with a fine-tuned VQA model: the top answers with probabilities.")
public final class PredictCommand implements Callable<Integer> {
  @Option(names = "--model", required = true, description = "model.sdz of a finetune run (or its run directory); task.json must lie beside it.")
  Path model;

  @Option(names = "--image", required = true, description = "Image file (JPEG or PNG).")
  Path image;

  @Option(names = "--question", required = true, description = "The question, e.g. \"Is there a fracture?\".")
  String question;

  @Option(names = "--top", defaultValue = "5", description = "How many answers to print (default ${DEFAULT-VALUE}).")
  int top;

  @Option(names = "--json", description = "Print JSON instead of a table.")
  boolean json;

  @Override
  public Integer call() {
    try (Predictor p = Predictor.open(model)) {
      List<Predictor.Answer> answers = p.predict(image, question, top);
      System.out.print(json ? Predictor.toJson(image, question, answers) : Predictor.toTable(question, answers));
    }
    return 0;
  }
}
