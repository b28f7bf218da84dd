import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/** Runs the tests of the Calc assignment against the student's Calc and writes results.json. */
public class GradeHarness {
    private interface Check {
        void run() throws Exception;
    }

    private static final List<String> TESTS = new ArrayList<>();
    private static double total = 0;

    private static void test(String name, double maxScore, Check check) {
        double score = 0;
        String output;
        try {
            check.run();
            score = maxScore;
            output = "passed";
        } catch (Throwable t) {
            output = t.toString();
        }
        total += score;
        TESTS.add(String.format(
            "{\"name\": %s, \"score\": %s, \"max_score\": %s, \"output\": %s}",
            quote(name), score, maxScore, quote(output)));
    }

    private static void expect(Object want, Object got) {
        if (!want.equals(got)) {
            throw new AssertionError("expected " + want + ", got " + got);
        }
    }

    private static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }

    public static void main(String[] args) throws IOException {
        test("add", 2, () -> {
            expect(5, Calc.add(2, 3));
            expect(-1, Calc.add(2, -3));
        });
        test("factorial", 3, () -> {
            expect(1L, Calc.factorial(0));
            expect(120L, Calc.factorial(5));
            expect(2432902008176640000L, Calc.factorial(20));
        });
        test("isPalindrome", 5, () -> {
            expect(true, Calc.isPalindrome("Never odd or even"));
            expect(false, Calc.isPalindrome("palindrome"));
            expect(true, Calc.isPalindrome(""));
        });
        String json = String.format("{\"score\": %s, \"tests\": [%s]}", total, String.join(", ", TESTS));
        Files.write(Paths.get(args[0]), json.getBytes(StandardCharsets.UTF_8));
        System.out.println("graded: " + total);
    }
}
