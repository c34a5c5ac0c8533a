// EPUBCheck for a whole test session in one JVM: the tests send one line per
// EPUB ("<epub path>\t<json report path>") and read a line with the token
// below once the report is written. Each check runs EPUBCheck's own command
// line entry (EpubChecker.run) with the arguments `epubcheck` would get, so
// the reports are EPUBCheck's; only the JVM's start-up (about 10 s of CPU per
// EPUB on a busy 2-core machine) is paid once.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

public class EpubCheckServer {
    public static void main(String[] arguments) throws Exception {
        BufferedReader requests = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String request;
        while ((request = requests.readLine()) != null) {
            String[] paths = request.split("\t");
            int code;
            try {
                code = new com.adobe.epubcheck.tool.EpubChecker().run(
                        new String[] {paths[0], "-q", "--profile", "default", "--json", paths[1]});
            } catch (Throwable failure) {
                failure.printStackTrace();
                code = -1;
            }
            System.out.println("@@EPUBCHECK-DONE@@ " + code);
            System.out.flush();
        }
    }
}
