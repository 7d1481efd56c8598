package io.parallax.worker.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Every field of a job file that its message has no place for, and every value of the wrong kind,
 * each by its path ({@code model.layers[0].linear.units: no such field in LinearLayer; its fields:
 * …}): what protobuf's JSON parser says one at a time and without the path. Asked only once that
 * parser has refused the file, so it can never refuse a file the parser takes; a problem it does
 * not know (malformed JSON) is left to the parser's own message.
 */
final class JsonFieldCheck {

    private static final ObjectMapper MAPPER = new ObjectMapper(JsonShape.JSON);
    private static final BigInteger INT_MIN = BigInteger.valueOf(Integer.MIN_VALUE);
    private static final BigInteger INT_MAX = BigInteger.valueOf(Integer.MAX_VALUE);
    private static final BigInteger UINT_MAX = BigInteger.ONE.shiftLeft(32).subtract(BigInteger.ONE);
    private static final BigInteger LONG_MIN = BigInteger.valueOf(Long.MIN_VALUE);
    private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);
    private static final BigInteger ULONG_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    private JsonFieldCheck() {}

    /** The problems of {@code json} read as a {@code type}, in the order they appear; empty if none is found. */
    static List<FieldError> problems(String json, Descriptor type) {
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (IOException e) {
            return List.of();
        }
        List<FieldError> out = new ArrayList<>();
        if (root != null && root.isObject()) {
            message(root, type, "", out);
        }
        return out;
    }

    private static void message(JsonNode node, Descriptor type, String path, List<FieldError> out) {
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String at = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
            FieldDescriptor f = field(type, e.getKey());
            JsonNode v = e.getValue();
            if (f == null) {
                out.add(new FieldError(at, "no such field in " + type.getName() + "; its fields: " + fieldNames(type)));
            } else if (v.isNull()) {
                continue; // the parser takes null as "not given"
            } else if (f.isMapField()) {
                if (!v.isObject()) {
                    out.add(new FieldError(at, "must be an object of keys and values, got " + shown(v)));
                    continue;
                }
                FieldDescriptor value = f.getMessageType().findFieldByName("value");
                for (Iterator<Map.Entry<String, JsonNode>> entries = v.fields(); entries.hasNext(); ) {
                    Map.Entry<String, JsonNode> entry = entries.next();
                    value(entry.getValue(), value, at + "." + entry.getKey(), out);
                }
            } else if (f.isRepeated()) {
                if (!v.isArray()) {
                    out.add(new FieldError(at, "must be a list ([…]), got " + shown(v)));
                    continue;
                }
                for (int i = 0; i < v.size(); i++) {
                    value(v.get(i), f, at + "[" + i + "]", out);
                }
            } else {
                value(v, f, at, out);
            }
        }
    }

    private static void value(JsonNode v, FieldDescriptor f, String at, List<FieldError> out) {
        String problem = switch (f.getJavaType()) {
            case MESSAGE -> {
                if (v.isObject()) {
                    message(v, f.getMessageType(), at, out);
                    yield null;
                }
                yield "must be an object ({…}) of " + f.getMessageType().getName() + "'s fields, got " + shown(v);
            }
            case INT, LONG -> integer(v, f);
            case FLOAT, DOUBLE -> v.isNumber() || v.isTextual() && isNumber(v.asText()) ? null
                    : "must be a number, got " + shown(v);
            case BOOLEAN -> v.isBoolean() || v.isTextual() && (v.asText().equals("true") || v.asText().equals("false"))
                    ? null : "must be true or false, got " + shown(v);
            case STRING, BYTE_STRING -> v.isContainerNode() ? "must be text, got " + shown(v) : null;
            case ENUM -> enumValue(v, f);
        };
        if (problem != null) {
            out.add(new FieldError(at, problem));
        }
    }

    private static String integer(JsonNode v, FieldDescriptor f) {
        BigDecimal n = null;
        if (v.isNumber()) {
            n = v.decimalValue();
        } else if (v.isTextual()) {
            try {
                n = new BigDecimal(v.asText().strip());
            } catch (NumberFormatException e) {
                n = null;
            }
        }
        if (n == null) {
            return "must be a whole number, got " + shown(v);
        }
        BigInteger whole;
        try {
            whole = n.toBigIntegerExact();
        } catch (ArithmeticException e) {
            return "must be a whole number, got " + n.toPlainString();
        }
        boolean unsigned = f.getType() == FieldDescriptor.Type.UINT32 || f.getType() == FieldDescriptor.Type.FIXED32
                || f.getType() == FieldDescriptor.Type.UINT64 || f.getType() == FieldDescriptor.Type.FIXED64;
        boolean wide = f.getJavaType() == FieldDescriptor.JavaType.LONG;
        BigInteger min = unsigned ? BigInteger.ZERO : wide ? LONG_MIN : INT_MIN;
        BigInteger max = unsigned ? wide ? ULONG_MAX : UINT_MAX : wide ? LONG_MAX : INT_MAX;
        return whole.compareTo(min) < 0 || whole.compareTo(max) > 0
                ? "must be a whole number from " + min + " to " + max + ", got " + whole : null;
    }

    private static boolean isNumber(String s) {
        if (s.equals("NaN") || s.equals("Infinity") || s.equals("-Infinity")) {
            return true;
        }
        try {
            new BigDecimal(s.strip());
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static String enumValue(JsonNode v, FieldDescriptor f) {
        if (v.isIntegralNumber() || v.isTextual() && f.getEnumType().findValueByName(v.asText()) != null) {
            return null;
        }
        List<String> names = new ArrayList<>();
        for (EnumValueDescriptor e : f.getEnumType().getValues()) {
            names.add(e.getName());
        }
        return "must be one of " + String.join(", ", names) + ", got " + shown(v);
    }

    /** The field named {@code name}, by its proto name or its JSON (lowerCamelCase) name. */
    private static FieldDescriptor field(Descriptor type, String name) {
        FieldDescriptor f = type.findFieldByName(name);
        if (f != null) {
            return f;
        }
        for (FieldDescriptor candidate : type.getFields()) {
            if (candidate.getJsonName().equals(name)) {
                return candidate;
            }
        }
        return null;
    }

    private static String fieldNames(Descriptor type) {
        List<String> names = new ArrayList<>();
        for (FieldDescriptor f : type.getFields()) {
            names.add(f.getName());
        }
        return String.join(", ", names);
    }

    /** A value as the file has it, cut short. */
    private static String shown(JsonNode v) {
        String s = v.toString();
        return s.length() > 40 ? s.substring(0, 37) + "…" : s;
    }
}
