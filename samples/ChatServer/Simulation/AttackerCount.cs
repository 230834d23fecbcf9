using System.Globalization;

namespace ChatServer.Simulation;

/// <summary>The value of <c>--attackers</c>: a number of users (<c>3</c>) or, with a decimal point, a share of them (<c>0.05</c>).</summary>
internal readonly record struct AttackerCount(double Value, bool IsShare)
{
    public static bool TryParse(string text, out AttackerCount value)
    {
        value = default;
        if (text.Contains('.', StringComparison.Ordinal))
        {
            if (!double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var share) || share > 1)
            {
                return false;
            }

            value = new AttackerCount(share, IsShare: true);
            return true;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var count))
        {
            return false;
        }

        value = new AttackerCount(count, IsShare: false);
        return true;
    }

    /// <summary>How many of <paramref name="users"/> attack: the number itself, or the share rounded to whole users.</summary>
    public int For(int users) => IsShare ? (int)Math.Round(Value * users, MidpointRounding.AwayFromZero) : (int)Value;

    /// <summary>What is wrong with this value for <paramref name="users"/> users, or <see langword="null"/> when it fits.</summary>
    public string? Check(int users)
    {
        var text = Value.ToString(CultureInfo.InvariantCulture);
        var count = For(users);
        if (count > users)
        {
            return $"--attackers must be a number of users from 0 to {users} (--users) or a share of them from 0 to 1 with a decimal point (e.g. 0.05); got '{text}'.";
        }

        return count > 0 && users < 2
            ? $"--attackers {text} needs at least 2 users: an attacker sends another user's conversation id. Use --attackers 0 or more --users."
            : null;
    }
}
