package org.m3ae.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Every command's {@code --help} renders as written. Picocli formats descriptions with {@code String.format}: a bare
 * "%" (as in "chance: 50 %") makes it print a "[picocli WARN] Could not format" line and the raw text with its
 * "%n" unreplaced, which `evaluate-itm --help` did.
 */
class HelpTextTest {

  @Test
  void everyCommandsHelpFormatsWithoutPicocliWarnings() {
    List<String> problems = new ArrayList<>();
    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    int commands = 0;
    try {
      System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
      for (Map.Entry<String, CommandLine> e : Main.commandLine().getSubcommands().entrySet()) {
        captured.reset();
        String usage = e.getValue().getUsageMessage(CommandLine.Help.Ansi.OFF);
        commands++;
        String warned = captured.toString(StandardCharsets.UTF_8);
        if (warned.contains("picocli WARN")) problems.add(e.getKey() + ": " + warned.strip());
        if (usage.contains("%n")) problems.add(e.getKey() + ": unformatted %n in its help");
      }
    } finally {
      System.setErr(err);
    }
    assertTrue(commands > 10, "subcommands found: " + commands);
    assertEquals(List.of(), problems);
  }
}
