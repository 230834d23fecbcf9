using System.Text;

namespace Isolation.Redis.Internal;

/// <summary>
/// The Redis key and channel names of one deployment: <c>isolation:{prefix}:node:{node}</c> (a node's channel) and
/// <c>isolation:{prefix}:presence:{user}</c> (the nodes that hold a user's connections). Every variable part is escaped, so
/// no user id, node id or prefix can produce another one's name.
/// </summary>
internal sealed class RedisNames
{
    private readonly string _root;

    public RedisNames(string environmentPrefix)
    {
        _root = "isolation:" + Escape(environmentPrefix) + ":";
    }

    public string NodeChannel(string nodeId) => _root + "node:" + Escape(nodeId);

    public string PresenceKey(string userId) => _root + "presence:" + Escape(userId);

    /// <summary>The channel every node of the environment listens to for "this user now has a connection on a new node".</summary>
    public string PresenceChangesChannel => _root + "presence-changes";

    public static string PresenceKeyFor(string environmentPrefix, string userId) => new RedisNames(environmentPrefix).PresenceKey(userId);

    public static string NodeChannelFor(string environmentPrefix, string nodeId) => new RedisNames(environmentPrefix).NodeChannel(nodeId);

    /// <summary>
    /// Percent-encodes every UTF-8 byte outside <c>[A-Za-z0-9._-]</c> (including <c>:</c> and <c>%</c>): injective, and the
    /// result never contains the <c>:</c> separator, so the parts of a name cannot run into each other.
    /// </summary>
    public static string Escape(string value)
    {
        var plain = true;
        foreach (var c in value)
        {
            if (!IsPlain(c))
            {
                plain = false;
                break;
            }
        }

        if (plain)
        {
            return value;
        }

        var bytes = Encoding.UTF8.GetBytes(value);
        var builder = new StringBuilder(bytes.Length * 3);
        foreach (var b in bytes)
        {
            if (b < 0x80 && IsPlain((char)b))
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(HexDigit(b >> 4)).Append(HexDigit(b & 0xF));
            }
        }

        return builder.ToString();
    }

    private static char HexDigit(int value) => (char)(value < 10 ? '0' + value : 'A' + value - 10);

    private static bool IsPlain(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '.' or '_' or '-';
}
