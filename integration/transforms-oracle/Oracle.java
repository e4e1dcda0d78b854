// The reference side of cassink's transform differential test: reads the corpus (one JSON case
// per line: a record and a connector's transforms/predicates config) from stdin, runs Kafka
// Connect's own JsonConverter and transformations (and Debezium's ExtractNewRecordState) on
// it, and prints one JSON line per case: the record as the chain left it (key and value
// written back by JsonConverter with schemas, topic, headers), whether it was dropped, or the
// error. Run: java -cp 'lib/*' Oracle.java < corpus.jsonl
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.header.ConnectHeaders;
import org.apache.kafka.connect.header.Header;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.transforms.Transformation;
import org.apache.kafka.connect.transforms.predicates.Predicate;

public class Oracle {
    static final ObjectMapper JSON = new ObjectMapper();

    static JsonConverter converter(boolean isKey, boolean schemas) {
        JsonConverter c = new JsonConverter();
        Map<String, Object> config = new HashMap<>();
        config.put("schemas.enable", Boolean.toString(schemas));
        config.put("converter.type", isKey ? "key" : "value");
        c.configure(config, isKey);
        return c;
    }

    static Map<String, String> sub(Map<String, String> config, String prefix) {
        Map<String, String> out = new HashMap<>();
        for (Map.Entry<String, String> e : config.entrySet()) {
            if (e.getKey().startsWith(prefix)) out.put(e.getKey().substring(prefix.length()), e.getValue());
        }
        return out;
    }

    static List<String> aliases(String raw) {
        List<String> out = new ArrayList<>();
        if (raw == null) return out;
        for (String a : raw.split(",")) if (!a.trim().isEmpty()) out.add(a.trim());
        return out;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    static Object make(String cls, Map<String, String> config) throws Exception {
        Object o = Class.forName(cls).getDeclaredConstructor().newInstance();
        if (o instanceof Transformation) ((Transformation) o).configure(config);
        else ((Predicate) o).configure(config);
        return o;
    }

    static JsonNode write(JsonConverter c, String topic, org.apache.kafka.connect.data.Schema schema, Object value) throws Exception {
        byte[] bytes = c.fromConnectData(topic, schema, value);
        return bytes == null ? null : JSON.readTree(bytes);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    static ObjectNode run(JsonNode kase) throws Exception {
        ObjectNode out = JSON.createObjectNode();
        out.put("name", kase.get("name").asText());
        Map<String, String> config = new HashMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = kase.get("config").fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            config.put(e.getKey(), e.getValue().asText());
        }
        JsonNode rec = kase.get("record");
        String topic = rec.get("topic").asText();
        boolean keySchemas = rec.path("key_schemas").asBoolean(false);
        boolean valueSchemas = rec.path("value_schemas").asBoolean(false);
        JsonConverter keyIn = converter(true, keySchemas), valueIn = converter(false, valueSchemas);
        JsonNode keyNode = rec.get("key"), valueNode = rec.get("value");
        SchemaAndValue key, value;
        try {
            key = keyNode == null || keyNode.isNull()
                ? SchemaAndValue.NULL : keyIn.toConnectData(topic, JSON.writeValueAsBytes(keyNode));
            value = valueNode == null || valueNode.isNull()
                ? SchemaAndValue.NULL : valueIn.toConnectData(topic, JSON.writeValueAsBytes(valueNode));
        } catch (Exception e) {
            out.put("error", "converter: " + e.getMessage());
            return out;
        }
        ConnectHeaders headers = new ConnectHeaders();
        JsonNode hs = rec.get("headers");
        if (hs != null) {
            Iterator<Map.Entry<String, JsonNode>> h = hs.fields();
            while (h.hasNext()) {
                Map.Entry<String, JsonNode> e = h.next();
                headers.addString(e.getKey(), e.getValue().asText());
            }
        }
        Long timestamp = rec.has("timestamp") ? rec.get("timestamp").asLong() : null;
        SinkRecord record = new SinkRecord(topic, rec.path("partition").asInt(0), key.schema(), key.value(),
            value.schema(), value.value(), rec.path("offset").asLong(0), timestamp,
            timestamp == null ? TimestampType.NO_TIMESTAMP_TYPE : TimestampType.CREATE_TIME, headers);

        Map<String, Predicate> predicates = new HashMap<>();
        for (String p : aliases(config.get("predicates"))) {
            Map<String, String> c = sub(config, "predicates." + p + ".");
            predicates.put(p, (Predicate) make(c.get("type"), c));
        }
        try {
            for (String t : aliases(config.get("transforms"))) {
                Map<String, String> c = sub(config, "transforms." + t + ".");
                Transformation tr = (Transformation) make(c.get("type"), c);
                String pred = c.get("predicate");
                boolean negate = Boolean.parseBoolean(c.getOrDefault("negate", "false"));
                if (pred != null && predicates.get(pred).test(record) == negate) continue;
                record = (SinkRecord) tr.apply(record);
                if (record == null) {
                    out.put("dropped", true);
                    return out;
                }
            }
        } catch (Exception e) {
            out.put("error", e.getClass().getSimpleName() + ": " + e.getMessage());
            return out;
        }
        out.put("dropped", false);
        out.put("topic", record.topic());
        JsonConverter keyOut = converter(true, true), valueOut = converter(false, true);
        out.set("key", write(keyOut, record.topic(), record.keySchema(), record.key()));
        out.set("value", write(valueOut, record.topic(), record.valueSchema(), record.value()));
        ArrayNode hOut = out.putArray("headers");
        for (Header h : record.headers()) {
            ArrayNode pair = hOut.addArray();
            pair.add(h.key());
            pair.add(h.value() == null ? null : String.valueOf(h.value()));
        }
        return out;
    }

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.trim().isEmpty()) continue;
            System.out.println(JSON.writeValueAsString(run(JSON.readTree(line))));
        }
    }
}
