package io.parallax.worker.job;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What protobuf's JSON parser lets through in a job file: a key given twice in one object (the
 * last one silently wins; in a map with integer keys "1" and "01" are one key), text after the
 * first JSON value (ignored), and syntax that is no JSON at all but that its lenient reader
 * (Gson's) takes, such as {@code "name" = "x"} or {@code ;} between fields, in which the first
 * two could hide. Comments ({@code //}, {@code /* *}{@code /},
 * {@code #}), single quotes and unquoted names stay allowed.
 */
final class JsonShape {

    /** As lenient as Gson, which protobuf's parser reads with, so that only these two problems show. */
    static final JsonFactory JSON = JsonFactory.builder()
            .enable(JsonReadFeature.ALLOW_JAVA_COMMENTS)
            .enable(JsonReadFeature.ALLOW_YAML_COMMENTS)
            .enable(JsonReadFeature.ALLOW_SINGLE_QUOTES)
            .enable(JsonReadFeature.ALLOW_UNQUOTED_FIELD_NAMES)
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .enable(JsonReadFeature.ALLOW_LEADING_DECIMAL_POINT_FOR_NUMBERS)
            .enable(JsonReadFeature.ALLOW_UNESCAPED_CONTROL_CHARS)
            .build();

    private JsonShape() {}

    /** The first such problem in {@code json}, or null when there is none. */
    static String problem(String json) {
        try (JsonParser p = JSON.createParser(json)) {
            Deque<Set<String>> objects = new ArrayDeque<>();
            JsonToken t = p.nextToken();
            int depth = 0;
            do {
                if (t == null) {
                    return null;
                }
                switch (t) {
                    case START_OBJECT -> {
                        objects.push(new HashSet<>());
                        depth++;
                    }
                    case START_ARRAY -> depth++;
                    case END_OBJECT -> {
                        objects.pop();
                        depth--;
                    }
                    case END_ARRAY -> depth--;
                    case FIELD_NAME -> {
                        if (!objects.peek().add(canonicalKey(p.currentName()))) {
                            return "'" + path(p) + "' is given twice; which one was meant?";
                        }
                    }
                    default -> { }
                }
                if (depth > 0) {
                    t = p.nextToken();
                }
            } while (depth > 0);
            long line = p.currentLocation().getLineNr();
            long column = p.currentLocation().getColumnNr();
            try {
                if (p.nextToken() == null) {
                    return null;
                }
            } catch (IOException e) {
                // whatever follows does not even parse: still text after the job
            }
            return "text after the job's closing brace (line " + line + ", column " + column + ")";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return syntax(json, e);
        } catch (IOException | RuntimeException e) {
            return "not JSON: " + e.getMessage();
        }
    }

    /**
     * Where {@code json} stops being JSON, and what to change, in a user's words (a trailing or
     * missing comma, a missing closing brace); null when its first value parses.
     */
    static String syntaxProblem(String json) {
        // the objects and lists open at the parser's position: "{" or "[" and where, innermost first
        Deque<String> open = new ArrayDeque<>();
        try (JsonParser p = JSON.createParser(json)) {
            for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
                if (t.isStructStart()) {
                    var at = p.currentTokenLocation();
                    open.push((t == JsonToken.START_OBJECT ? "{ … } object" : "[ … ] list") + " opened at line "
                            + at.getLineNr() + ", column " + at.getColumnNr() + ": a '"
                            + (t == JsonToken.START_OBJECT ? "}" : "]") + "' is missing");
                } else if (t.isStructEnd()) {
                    open.pop();
                    if (open.isEmpty()) {
                        return null; // the first value is whole; what follows is problem()'s business
                    }
                }
            }
            return null;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            if (String.valueOf(e.getOriginalMessage()).startsWith("Unexpected end-of-input") && !open.isEmpty()) {
                return "the file ends inside the " + open.peek();
            }
            return syntax(json, e);
        } catch (IOException | RuntimeException e) {
            return "not JSON: " + e.getMessage();
        }
    }

    private static final Pattern EXPECTING_COMMA = Pattern.compile("was expecting comma to separate (Object|Array) entries");

    /** The parser's complaint, at the character it stopped on; the common slips in plainer words. */
    private static String syntax(String json, com.fasterxml.jackson.core.JsonProcessingException e) {
        var at = e.getLocation();
        String why = String.valueOf(e.getOriginalMessage()).lines().findFirst().orElse("");
        if (at == null || at.getCharOffset() < 0 || at.getCharOffset() > json.length()) {
            return "not JSON: " + why;
        }
        int bad = (int) at.getCharOffset();
        char found = bad < json.length() ? json.charAt(bad) : ' ';
        int before = bad - 1;
        while (before >= 0 && Character.isWhitespace(json.charAt(before))) {
            before--;
        }
        if (EXPECTING_COMMA.matcher(why).find() && before >= 0) {
            return "a ',' is missing after " + place(json, before) + " (before " + place(json, bad) + ")";
        }
        if (before >= 0 && json.charAt(before) == ',' && (found == '}' || found == ']')) {
            return "a ',' with nothing after it at " + place(json, before) + ", before the '" + found + "': remove it";
        }
        return "not JSON at " + place(json, bad) + ": " + why;
    }

    /** "line L, column C" of the character at {@code index} (both from 1). */
    private static String place(String json, int index) {
        int line = 1;
        int lineStart = 0;
        for (int i = 0; i < index && i < json.length(); i++) {
            if (json.charAt(i) == '\n') {
                line++;
                lineStart = i + 1;
            }
        }
        return "line " + line + ", column " + (index - lineStart + 1);
    }

    /**
     * The key as protobuf reads it: a map with integer keys ({@code lr_scales}) takes "1", "01"
     * and "+1" as the same key, so they count as one here. Field names are never numeric.
     */
    private static String canonicalKey(String key) {
        if (key.matches("[+-]?[0-9]+")) {
            return new BigInteger(key).toString();
        }
        return key;
    }

    /** The field's path as the validator spells it: {@code model.layers[1].linear.out_features}. */
    private static String path(JsonParser p) {
        Deque<String> parts = new ArrayDeque<>();
        for (var c = p.getParsingContext(); c != null && !c.inRoot(); c = c.getParent()) {
            parts.push(c.inArray() ? "[" + c.getCurrentIndex() + "]" : c.getCurrentName());
        }
        StringBuilder b = new StringBuilder();
        for (String part : parts) {
            b.append(b.isEmpty() || part.startsWith("[") ? "" : ".").append(part);
        }
        return b.toString();
    }
}
