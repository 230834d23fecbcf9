using System.Security.Cryptography;

namespace Isolation.Internal;

/// <summary>
/// New run identifiers: 128 random bits as 32 lowercase hex characters (the shape of <c>Guid.ToString("N")</c>).
/// The bytes come from the operating system's cryptographic generator, fetched 32 identifiers at a time per thread,
/// so an identifier costs a formatted string rather than a system call (<see cref="Guid.NewGuid"/> makes one per call).
/// </summary>
internal static class RunIds
{
    private const int IdBytes = 16;
    private const int BufferBytes = IdBytes * 32;

    [ThreadStatic]
    private static byte[]? t_buffer;

    [ThreadStatic]
    private static int t_remaining;

    public static string New()
    {
        var buffer = t_buffer ??= new byte[BufferBytes];
        if (t_remaining == 0)
        {
            RandomNumberGenerator.Fill(buffer);
            t_remaining = BufferBytes;
        }

        var offset = BufferBytes - t_remaining;
        t_remaining -= IdBytes;
        return string.Create(IdBytes * 2, (buffer, offset), static (chars, state) =>
        {
            const string Hex = "0123456789abcdef";
            for (var i = 0; i < IdBytes; i++)
            {
                var value = state.buffer[state.offset + i];
                chars[i * 2] = Hex[value >> 4];
                chars[(i * 2) + 1] = Hex[value & 0xF];
            }
        });
    }
}
