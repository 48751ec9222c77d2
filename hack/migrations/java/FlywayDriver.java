import java.util.HashMap;
import java.util.Map;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationInfoService;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.flywaydb.database.postgresql.PostgreSQLConfigurationExtension;

/**
 * Drives Flyway through its Java API (the command-line artifact is not served here), for the real-tool tests.
 * Usage: java -cp 'lib/*' FlywayDriver.java migrate|info|repair|baseline key=value...
 * Each key=value is a Flyway setting without its "flyway." prefix (url, user, password, locations, outOfOrder, ...);
 * sessionLock=true takes PostgreSQL's advisory lock per session instead of in a transaction, which is what lets a
 * failed non-transactional migration keep its failed row (a transactional lock rolls that row back with it).
 * Always prints `flyway info` afterwards as one JSON object: {"current": ..., "migrations": [...]}; exits 1 when the
 * command failed (the error is in "error").
 */
public class FlywayDriver {
  public static void main(String[] args) {
    Map<String, String> settings = new HashMap<>();
    boolean sessionLock = false;
    for (int i = 1; i < args.length; i++) {
      String[] kv = args[i].split("=", 2);
      if (kv[0].equals("sessionLock")) sessionLock = Boolean.parseBoolean(kv[1]);
      else settings.put("flyway." + kv[0], kv[1]);
    }
    FluentConfiguration configuration = Flyway.configure().configuration(settings);
    if (sessionLock) {
      configuration.getConfigurationExtension(PostgreSQLConfigurationExtension.class).setTransactionalLock(false);
    }
    Flyway flyway = configuration.load();
    String error = null;
    try {
      switch (args[0]) {
        case "migrate" -> flyway.migrate();
        case "repair" -> flyway.repair();
        case "baseline" -> flyway.baseline();
        case "info" -> {}
        default -> throw new IllegalArgumentException("unknown command " + args[0]);
      }
    } catch (Exception e) {
      error = e.getMessage();
    }
    MigrationInfoService info = flyway.info();
    StringBuilder out = new StringBuilder("{\"current\":");
    MigrationInfo current = info.current();
    out.append(current == null || current.getVersion() == null ? "null" : json(current.getVersion().getVersion()));
    out.append(",\"error\":").append(error == null ? "null" : json(error)).append(",\"migrations\":[");
    MigrationInfo[] all = info.all();
    for (int i = 0; i < all.length; i++) {
      MigrationInfo m = all[i];
      if (i > 0) out.append(',');
      out.append("{\"version\":").append(m.getVersion() == null ? "null" : json(m.getVersion().getVersion()))
          .append(",\"description\":").append(json(m.getDescription()))
          .append(",\"type\":").append(json(String.valueOf(m.getType())))
          .append(",\"state\":").append(json(m.getState().name()))
          .append(",\"applied\":").append(m.getState().isApplied())
          .append(",\"failed\":").append(m.getState().isFailed())
          .append(",\"installedRank\":").append(m.getInstalledRank())
          .append('}');
    }
    System.out.println(out.append("]}"));
    System.exit(error == null ? 0 : 1);
  }

  private static String json(String s) {
    if (s == null) return "null";
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') b.append('\\').append(c);
      else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
      else b.append(c);
    }
    return b.append('"').toString();
  }
}
