using System.Collections.Frozen;
using System.Reflection;

namespace ChatServer;

/// <summary>The chat and dashboard pages: plain HTML, JavaScript and CSS embedded in the assembly, served as they are.</summary>
internal static class Pages
{
    private static readonly FrozenDictionary<string, (byte[] Content, string ContentType)> Files = Load();

    public static IResult Serve(string name) =>
        Files.TryGetValue(name, out var file)
            ? Results.Bytes(file.Content, file.ContentType)
            : Results.NotFound();

    private static FrozenDictionary<string, (byte[] Content, string ContentType)> Load()
    {
        var assembly = Assembly.GetExecutingAssembly();
        var files = new Dictionary<string, (byte[], string)>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith("wwwroot/", StringComparison.Ordinal))
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            var name = resource["wwwroot/".Length..];
            var type = Path.GetExtension(name) switch
            {
                ".html" => "text/html; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                _ => "application/octet-stream",
            };
            files[name] = (memory.ToArray(), type);
        }

        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
